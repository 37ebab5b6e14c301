import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Button, Input, Space } from "antd";
import { api, unwrap } from "../../api/client";
import { contactLabel, type Contact } from "../../api/types";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";

/** Contacts found by email (with "@"), else by external id, else by a name prefix. */
async function findContacts(q: string): Promise<Contact[]> {
  const value = q.trim();
  const search = async (query: { email?: string; external_id?: string; name?: string }) =>
    (await unwrap(api.GET("/api/v1/contacts", { params: { query: { ...query, limit: 10 } } }))).data;
  if (value.includes("@")) return search({ email: value });
  const byId = await search({ external_id: value });
  return byId.length > 0 ? byId : search({ name: value });
}

/** Finds a contact by email or external id and hands the chosen one to `onPick`. */
export function ContactPicker({
  id,
  label,
  action,
  onPick,
  disabled,
}: {
  id: string;
  label: string;
  /** The text of each result's button, from the contact's name. */
  action: (name: string) => string;
  onPick: (contact: Contact) => void;
  disabled?: boolean;
}) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const [draft, setDraft] = useState("");
  const [q, setQ] = useState("");
  const query = useQuery({
    queryKey: ["contact-picker", workspace, q],
    queryFn: () => findContacts(q),
    enabled: q.trim() !== "",
  });
  const results = query.data ?? [];

  return (
    <div className="contact-picker">
      <div role="search">
        <label htmlFor={id} className="picker-label">
          {label}
        </label>
        <Input.Search
          id={id}
          value={draft}
          disabled={disabled}
          onChange={(e) => setDraft(e.target.value)}
          onSearch={(v) => setQ(v.trim())}
          placeholder={t("picker.placeholder")}
          enterButton={t("picker.find")}
          loading={query.isFetching}
          style={{ maxWidth: 420 }}
        />
      </div>
      <div aria-live="polite">
        {query.isError ? <ErrorAlert error={query.error} /> : null}
        {q && query.isSuccess && results.length === 0 ? (
          <p className="text-secondary picker-empty">{t("picker.none", { q })}</p>
        ) : null}
        {results.length > 0 ? (
          <ul className="picker-results" aria-label={t("picker.results")}>
            {results.map((c) => {
              const name = contactLabel(c) ?? t("contacts.unnamed", { id: c.id });
              const ids = [c.email, c.external_id].filter((x) => x && x !== name).join(" · ");
              return (
                <li key={c.id}>
                  <Space wrap>
                    <Button size="small" disabled={disabled} onClick={() => onPick(c)}>
                      {action(name)}
                    </Button>
                    <span className="text-secondary">
                      #{c.id}
                      {ids ? ` · ${ids}` : ""}
                    </span>
                  </Space>
                </li>
              );
            })}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
