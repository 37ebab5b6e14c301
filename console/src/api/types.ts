import type { components } from "./schema";

type Schemas = components["schemas"];

export type Contact = Schemas["ContactRead"];
export type ContactWithTraits = Schemas["ContactWithTraits"];
export type ContactDetail = Schemas["ContactDetail"];
export type ContactEvent = Schemas["EventRead"];
export type ContactSegment = Schemas["ContactSegment"];
export type ContactSubscriptions = Schemas["ContactSubscriptions"];
export type ConsentEvent = Schemas["ConsentEventRead"];
export type Enrollment = Schemas["EnrollmentRead"];
export type Message = Schemas["MessageRead"];
export type Identity = Schemas["Identity"];

/** A contact's name as people read it: the name, else an identifier, else its number. */
export function contactLabel(
  c: Pick<Contact, "id" | "first_name" | "last_name" | "email" | "phone" | "external_id">,
): string | null {
  const name = [c.first_name, c.last_name].filter(Boolean).join(" ").trim();
  return name || c.email || c.phone || c.external_id || null;
}

export type Segment = Schemas["SegmentRead"];
export type SegmentKind = Schemas["SegmentCreate"]["kind"];
export type SegmentReference = Schemas["SegmentBuilderReference"];
export type OperatorRef = Schemas["OperatorRef"];
export type FieldRef = Schemas["FieldRef"];
export type SegmentPreview = Schemas["SegmentPreview"];
export type SegmentExplanation = Schemas["SegmentExplanation"];
export type SegmentMember = Schemas["SegmentMember"];
export type ListImportResult = Schemas["ListImportResult"];
export type ComputedTrait = Schemas["ComputedTraitRead"];
export type TagRule = Schemas["TagRuleRead"];
export type DurationValue = Schemas["Duration"];
export type Topic = Schemas["TopicRead"];
export type ChannelKind = NonNullable<Topic["channel"]>;
