import { useState } from "react";
import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderWithProviders } from "../../test/render";
import { json, mockFetch } from "../../test/fetchMock";
import "../../i18n/offers";
import { FieldBuilder } from "./FieldBuilder";
import { consentPayload, embedSnippet, fieldsPayload, move, newField, publicUrl, type DraftConsent, type DraftField } from "./model";

function Harness({ onState }: { onState: (f: DraftField[], c: DraftConsent[]) => void }) {
  const [fields, setFields] = useState<DraftField[]>([
    { ...newField("email", []), label: "Email" },
    { ...newField("select", ["email"]), name: "plan", label: "Plan", options: ["Basic", "Pro"] },
  ]);
  const [consent, setConsent] = useState<DraftConsent[]>([]);
  onState(fields, consent);
  return (
    <FieldBuilder
      fields={fields}
      onFields={setFields}
      consent={consent}
      onConsent={setConsent}
      topics={[{ id: 3, name: "Newsletter" }]}
      attributes={["plan"]}
      readOnly={false}
      problems={new Map()}
      showProblems={false}
    />
  );
}

describe("field builder", () => {
  it("reorders fields with the keyboard buttons and adds a consent checkbox", async () => {
    mockFetch({ "GET /api/v1/session": json(401, { code: "unauthorized", message: "x" }) });
    let state: { fields: DraftField[]; consent: DraftConsent[] } = { fields: [], consent: [] };
    renderWithProviders(<Harness onState={(fields, consent) => (state = { fields, consent })} />);
    const user = userEvent.setup();
    const up = await screen.findByRole("button", { name: "Move “Plan” up" });
    expect(state.fields.map((f) => f.name)).toEqual(["email", "plan"]);
    await user.click(up);
    expect(state.fields.map((f) => f.name)).toEqual(["plan", "email"]);
    expect(screen.getByText("“Plan” moved to position 1 of 2.")).toBeTruthy();
    expect((screen.getByRole("button", { name: "Move “Plan” up" }) as HTMLButtonElement).disabled).toBe(true);

    await user.click(screen.getByRole("button", { name: /Add consent checkbox/ }));
    const consent = screen.getByRole("list", { name: "Consent checkboxes" });
    await user.click(within(consent).getByLabelText("Topic"));
    await user.click(await screen.findByTitle("Newsletter"));
    expect(consentPayload(state.consent)).toEqual([{ topic_id: 3, label: "Yes, send me Newsletter", wording_version: "1", required: false }]);
    expect(fieldsPayload(state.fields)[0]).toEqual({ name: "plan", label: "Plan", type: "select", required: false, options: ["Basic", "Pro"], value: null });
  });
});

describe("form model", () => {
  it("moves items and refuses moves past the ends", () => {
    expect(move(["a", "b", "c"], 2, -2)).toEqual(["c", "a", "b"]);
    const same = ["a", "b"];
    expect(move(same, 0, -1)).toBe(same);
  });
  it("builds the embed snippet with the UTM values, escaped", () => {
    const url = publicUrl("https://kairos.example", "/f/7/webinar", { utm_source: "news letter", utm_medium: "" });
    expect(url).toBe("https://kairos.example/f/7/webinar?utm_source=news+letter");
    expect(embedSnippet(url, 'Join "us" <now>')).toBe(
      '<iframe src="https://kairos.example/f/7/webinar?utm_source=news+letter" title="Join &quot;us&quot; &lt;now&gt;" width="100%" height="560" style="border:0;max-width:40rem" loading="lazy"></iframe>',
    );
  });
});
