import { useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Alert, Button, Form, Input, Tag } from "antd";
import { SendOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { contactLabel, type Contact, type Message } from "../../api/types";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n, type MessageKey } from "../../i18n";
import type { TemplateChannel } from "./model";

/** Statuses a test message may still leave (the worker has not finished with it). */
const PENDING = new Set(["queued", "sending"]);

const TO_HINT: Partial<Record<TemplateChannel, MessageKey>> = {
  email: "testSend.toEmail",
  sms: "testSend.toPhone",
  webhook: "testSend.toUrl",
};

/** The message's status, asked again every 2 s while the worker has not sent it (for a minute after `since`). */
function useMessageStatus(id: number | null, since: number) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["message", workspace, id],
    queryFn: () => unwrap(api.GET("/api/v1/messages/{message_id}", { params: { path: { message_id: id ?? 0 } } })),
    enabled: id !== null,
    refetchInterval: (query) =>
      query.state.data && PENDING.has(query.state.data.status) && Date.now() - since < 60_000 ? 2000 : false,
  });
}

function StatusTag({ message }: { message: Message }) {
  const { t } = useI18n();
  const color = message.status === "sent" || message.status === "delivered" ? "green" : PENDING.has(message.status) ? "blue" : "red";
  const key = `testSend.status.${message.status}` as MessageKey;
  const label = t(key);
  return <Tag color={color}>{label === key ? message.status : label}</Tag>;
}

/**
 * Queues the saved template for the preview's contact as a transactional test message
 * (`POST /templates/{id}/test-send`), optionally to another address, and follows its status.
 */
export function TestSendPanel({
  templateId,
  channel,
  contact,
  offerId,
  blockedBy,
}: {
  templateId: number | null;
  channel: TemplateChannel;
  contact: Contact | null;
  offerId: number | null;
  /** Why a test cannot be sent now (unsaved changes…), or null. */
  blockedBy: string | null;
}) {
  const { t } = useI18n();
  const [to, setTo] = useState("");
  const [sent, setSent] = useState<{ message: Message; at: number } | null>(null);
  const status = useMessageStatus(sent?.message.id ?? null, sent?.at ?? 0);
  const send = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/templates/{template_id}/test-send", {
          params: { path: { template_id: templateId ?? 0 } },
          body: { contact_id: contact?.id ?? 0, ...(to.trim() ? { to: to.trim() } : {}), ...(offerId !== null ? { offer_id: offerId } : {}) },
        }),
      ),
    onSuccess: (message) => setSent({ message, at: Date.now() }),
    onMutate: () => setSent(null),
  });
  const toHint = TO_HINT[channel];
  const toError =
    send.error instanceof ApiError && ["invalid_email", "invalid_phone", "url_not_allowed"].includes(send.error.code)
      ? send.error.message
      : null;
  const message = status.data ?? sent?.message ?? null;
  const reason = !contact ? t("testSend.needContact") : blockedBy;
  const name = contact ? (contactLabel(contact) ?? t("contacts.unnamed", { id: contact.id })) : "";

  return (
    <section className="test-send" aria-labelledby="test-send-title">
      <h2 id="test-send-title" className="section-title">
        {t("testSend.title")}
      </h2>
      <p className="text-secondary">{contact ? t("testSend.intro", { name }) : t("testSend.introNoContact")}</p>
      <Form layout="vertical" component="div">
        {toHint ? (
          <Form.Item
            label={t("testSend.to")}
            htmlFor="test-send-to"
            validateStatus={toError ? "error" : undefined}
            help={toError ?? t(toHint)}
          >
            <Input id="test-send-to" value={to} onChange={(e) => setTo(e.target.value)} autoComplete="off" style={{ maxWidth: 360 }} />
          </Form.Item>
        ) : null}
        <Button icon={<SendOutlined />} onClick={() => send.mutate()} loading={send.isPending} disabled={reason !== null || templateId === null}>
          {t("testSend.send")}
        </Button>
        {reason ? <span className="text-secondary test-send-reason"> {reason}</span> : null}
      </Form>
      <div aria-live="polite" className="test-send-result">
        {send.error && !toError ? <Alert type="error" showIcon title={t("testSend.failed")} description={errorText(send.error, t)} /> : null}
        {message ? (
          <Alert
            type={message.status === "failed" || message.status === "bounced" || message.status === "skipped" ? "warning" : "success"}
            showIcon
            title={
              <span data-testid="test-send-result">
                {t("testSend.queued", { id: message.id })} <StatusTag message={message} />
              </span>
            }
            description={
              <>
                {message.address ? <div>{t("testSend.address", { address: message.address })}</div> : null}
                {message.reason || message.error ? (
                  <div>{[message.reason, message.error].filter(Boolean).join(": ")}</div>
                ) : null}
              </>
            }
          />
        ) : null}
      </div>
    </section>
  );
}
