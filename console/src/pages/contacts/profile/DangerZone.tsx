import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, Modal } from "antd";
import { DeleteOutlined } from "@ant-design/icons";
import { useNavigate } from "react-router";
import { api, unwrap } from "../../../api/client";
import type { ContactWithTraits } from "../../../api/types";
import { useSession, useWorkspaceKey } from "../../../auth/SessionProvider";
import { errorText } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";

/** Erasing a contact is for admins (the server refuses the others: `DELETE /contacts/{id}`). */
export function useCanErase(): boolean {
  return useSession().workspace?.role === "admin";
}

/** What the user types to confirm: the contact's email, else its id. */
export function eraseConfirmation(contact: Pick<ContactWithTraits, "id" | "email">): string {
  return contact.email ?? String(contact.id);
}

export function confirms(typed: string, expected: string): boolean {
  return typed.trim().toLowerCase() === expected.toLowerCase();
}

/**
 * The danger zone: erase the person (right to erasure) after typing their email or id.
 * Then back to the list, which says who was erased.
 */
export function DangerZone({ contact, title }: { contact: ContactWithTraits; title: string }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const expected = eraseConfirmation(contact);

  const erase = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/contacts/{contact_id}", { params: { path: { contact_id: contact.id } } })),
    onSuccess: () => {
      for (const key of ["contacts", "segments", "tags", "lifecycle-stages"]) {
        void queryClient.invalidateQueries({ queryKey: [key, workspace] });
      }
      navigate("/contacts", { state: { erased: title, cursors: [] } });
      // once the profile is gone, nothing of the person stays in the page's caches
      window.setTimeout(() => {
        queryClient.removeQueries({
          predicate: (q) => String(q.queryKey[0]).startsWith("contact-") || q.queryKey[0] === "contact",
        });
      }, 0);
    },
  });

  const close = () => {
    if (erase.isPending) return;
    setOpen(false);
    setTyped("");
    erase.reset();
  };

  return (
    <section aria-labelledby="profile-danger" className="danger-zone">
      <h2 id="profile-danger" className="section-title">
        {t("profile.danger")}
      </h2>
      <p className="danger-intro">{t("profile.erase.intro")}</p>
      <Button danger icon={<DeleteOutlined />} onClick={() => setOpen(true)}>
        {t("profile.erase")}
      </Button>
      <Modal
        open={open}
        title={t("profile.erase.title", { name: title })}
        onCancel={close}
        okText={t("profile.erase.button")}
        okButtonProps={{ danger: true, disabled: !confirms(typed, expected), loading: erase.isPending }}
        cancelText={t("common.cancel")}
        onOk={() => erase.mutate()}
        destroyOnHidden
      >
        <p>{t("profile.erase.intro")}</p>
        <Form
          layout="vertical"
          onFinish={() => {
            if (confirms(typed, expected)) erase.mutate();
          }}
        >
          <Form.Item label={t("profile.erase.confirm", { value: expected })} htmlFor="erase-confirm">
            <Input
              id="erase-confirm"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
            />
          </Form.Item>
        </Form>
        {erase.isError ? <Alert type="error" showIcon title={errorText(erase.error, t)} /> : null}
      </Modal>
    </section>
  );
}
