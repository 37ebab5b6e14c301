// Words for values the API answers (node types, outcomes, states, reasons), in the user's
// language; a value this console does not know is shown as it is.
import { isMessageKey, type I18n, type MessageKey } from "../../../i18n";
import { nodesOf } from "./diff";
import type { Definition } from "./overlay";

function known(t: I18n["t"], key: string, fallback: string): string {
  return isMessageKey(key) ? t(key as MessageKey) : fallback;
}

export const nodeTypeLabel = (t: I18n["t"], type: string | null | undefined) =>
  type ? known(t, `journeyPanels.type.${type}`, type) : t("journeyPanels.type.unknown");

export const outcomeLabel = (t: I18n["t"], outcome: string) => known(t, `journeyPanels.outcome.${outcome}`, outcome);

export const stateLabel = (t: I18n["t"], state: string) => known(t, `journeyPanels.state.${state}`, state);

export const reasonLabel = (t: I18n["t"], reason: string) => known(t, `journeyPanels.reason.${reason}`, reason);

export const channelLabel = (t: I18n["t"], channel: string) => known(t, `journeyPanels.channel.${channel}`, channel);

/** A definition field's name for people ("duration" → "Duration"); unknown ones as they are. */
export const fieldLabel = (t: I18n["t"], field: string) => known(t, `journeyPanels.field.${field}`, field);

export const sectionLabel = (t: I18n["t"], section: string) => known(t, `journeyPanels.section.${section}`, section);

/** The fields of the branches a node can take, in the order they are drawn. */
function targets(node: Record<string, unknown>): string[] {
  const out: unknown[] = [node.next, node.yes, node.no, node.timeout_next, node.none_next];
  for (const list of [node.outcomes, node.branches, node.cases]) {
    if (Array.isArray(list)) for (const b of list) out.push((b as { next?: unknown } | null)?.next);
  }
  out.push(node.otherwise);
  return out.filter((v): v is string => typeof v === "string");
}

/** The definition's node ids from `start`, breadth first along the branches; unreachable ones last. */
export function nodeOrder(definition: Definition): string[] {
  const nodes = nodesOf(definition);
  const seen = new Set<string>();
  const queue = typeof definition.start === "string" && definition.start in nodes ? [definition.start] : [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (seen.has(id) || !(id in nodes)) continue;
    seen.add(id);
    queue.push(...targets(nodes[id] as Record<string, unknown>));
  }
  return [...seen, ...Object.keys(nodes).filter((id) => !seen.has(id))];
}

export function nodeTypeOf(definition: Definition, id: string): string | null {
  const type = nodesOf(definition)[id]?.type;
  return typeof type === "string" ? type : null;
}
