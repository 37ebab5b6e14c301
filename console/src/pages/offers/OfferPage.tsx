import { useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, InputNumber, Modal, Radio, Select, Space, Spin, Tabs, message as antMessage } from "antd";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { SegmentBuilder } from "../segments/builder/SegmentBuilder";
import { definitionFrom, type Condition } from "../segments/builder/model";
import { useSegmentReference, useTopics } from "../segments/queries";
import { ValidityTag, kindLabel } from "./common";
import { CouponPool } from "./CouponPool";
import {
  COUPON_MODES,
  KEY_PATTERN,
  KINDS,
  VALUED_KINDS,
  isoToZoned,
  validity,
  zonedToIso,
  type CouponMode,
  type Offer,
  type OfferCreate,
  type OfferKind,
} from "./model";
import { offerKey, offersKey, useOffer } from "./queries";
import "../../i18n/audiences";
import "../../i18n/offers";
import "./offers.css";

interface Draft {
  key: string;
  name: string;
  description: string;
  kind: OfferKind;
  value: number | null;
  currency: string;
  starts: string;
  ends: string;
  eligibility: Condition | null;
  priority: number;
  per_contact_limit: number;
  total_limit: number | null;
  status: "active" | "paused";
  coupon_mode: CouponMode;
  static_code: string;
}

type Field = keyof Draft | "starts_at" | "ends_at";

function draftOf(offer: Offer | null, zone: string | null, currency: string): Draft {
  return {
    key: offer?.key ?? "",
    name: offer?.name ?? "",
    description: offer?.description ?? "",
    kind: (offer?.kind as OfferKind | undefined) ?? "discount_percent",
    value: offer?.value ?? null,
    currency: offer?.currency ?? currency,
    starts: isoToZoned(offer?.starts_at, zone),
    ends: isoToZoned(offer?.ends_at, zone),
    eligibility: (offer?.eligibility as Condition | null | undefined) ?? null,
    priority: offer?.priority ?? 0,
    per_contact_limit: offer?.per_contact_limit ?? 1,
    total_limit: offer?.total_limit ?? null,
    status: offer?.status === "paused" ? "paused" : "active",
    coupon_mode: (offer?.coupon_mode as CouponMode | undefined) ?? "none",
    static_code: offer?.static_code ?? "",
  };
}

function payloadOf(d: Draft, zone: string | null): Omit<OfferCreate, "key"> {
  const valued = d.kind !== "free_shipping";
  return {
    name: d.name.trim(),
    description: d.description.trim() || null,
    kind: d.kind,
    value: valued ? d.value : null,
    currency: d.kind === "discount_amount" ? d.currency.trim().toUpperCase() || null : null,
    starts_at: zonedToIso(d.starts, zone),
    ends_at: zonedToIso(d.ends, zone),
    eligibility: d.eligibility as OfferCreate["eligibility"],
    priority: d.priority,
    per_contact_limit: d.per_contact_limit,
    total_limit: d.total_limit,
    status: d.status,
    coupon_mode: d.coupon_mode,
    static_code: d.coupon_mode === "static" ? d.static_code.trim().toUpperCase() || null : null,
  };
}

/** The field a refusal names: its code's, else the message's first word (`value: …`). */
function refusedField(error: unknown): Field | null {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "offer_exists" || error.code === "invalid_key") return "key";
  if (error.code === "code_exists") return "static_code";
  if (error.code === "offer_in_use") return "coupon_mode";
  if (error.code === "invalid_window") return "ends";
  const match = /^([a-z_]+)[:.[]/.exec(error.message);
  const name = match?.[1];
  if (name === "starts_at") return "starts";
  if (name === "ends_at") return "ends";
  return name && ["name", "value", "currency", "priority", "per_contact_limit", "total_limit", "eligibility", "static_code", "coupon_mode", "kind", "description"].includes(name)
    ? (name as Field)
    : null;
}

function currencies(): string[] {
  try {
    return Intl.supportedValuesOf("currency");
  } catch {
    return ["CNY", "EUR", "GBP", "JPY", "USD"];
  }
}

function Eligibility({ value, onChange, readOnly, error }: { value: Condition | null; onChange: (v: Condition | null) => void; readOnly: boolean; error: string | null }) {
  const { t } = useI18n();
  const reference = useSegmentReference();
  const topics = useTopics();
  const definition = useMemo(() => definitionFrom({ schema_version: 1, root: value ?? { type: "all", conditions: [] } }), [value]);
  return (
    <fieldset className="offer-fieldset">
      <legend>{t("offer.eligibility")}</legend>
      <Radio.Group
        disabled={readOnly}
        value={value === null ? "everyone" : "segment"}
        onChange={(e) => onChange(e.target.value === "everyone" ? null : { type: "all", conditions: [] })}
        options={[
          { value: "everyone", label: t("offer.eligibility.everyone") },
          { value: "segment", label: t("offer.eligibility.segment") },
        ]}
      />
      <p className="text-secondary field-hint">{t("offer.eligibility.hint")}</p>
      {error ? <Alert type="error" showIcon title={error} className="page-alert" /> : null}
      {value !== null ? (
        reference.data ? (
          <SegmentBuilder
            reference={reference.data}
            topics={topics.data?.data ?? []}
            definition={definition}
            onChange={(d) => onChange(d.root)}
            readOnly={readOnly}
            selfId={null}
          />
        ) : reference.isError ? (
          <ErrorAlert error={reference.error} onRetry={() => void reference.refetch()} />
        ) : (
          <Spin />
        )
      ) : null}
    </fieldset>
  );
}

function OfferForm({ offer }: { offer: Offer | null }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const zone = useWorkspaceTimeZone();
  const ws = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(offer, zone, "CNY"));
  const [checked, setChecked] = useState(false);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const readOnly = !canEdit || offer?.status === "archived";
  const currencyList = useMemo(currencies, []);

  const save = useMutation({
    mutationFn: async (d: Draft) => {
      const body = payloadOf(d, zone);
      if (offer) return unwrap(api.PATCH("/api/v1/offers/{offer_id}", { params: { path: { offer_id: offer.id } }, body }));
      return unwrap(api.POST("/api/v1/offers", { body: { ...body, key: d.key.trim() } }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(offerKey(ws, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: offersKey(ws) });
      void antMessage.success(t("offer.saved"));
      if (!offer) navigate(`/offers/${saved.id}${saved.coupon_mode === "pool" ? "?tab=codes" : ""}`, { replace: true });
    },
  });
  const archive = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/offers/{offer_id}", { params: { path: { offer_id: offer?.id ?? 0 } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: offersKey(ws) });
      void queryClient.invalidateQueries({ queryKey: offerKey(ws, offer?.id ?? 0) });
    },
  });

  // what is missing before anything is sent (the server checks again)
  const local: Partial<Record<Field, string>> = {};
  if (!offer && !KEY_PATTERN.test(draft.key.trim())) local.key = t("offer.error.key");
  if (!draft.name.trim()) local.name = t("offer.error.name");
  if (VALUED_KINDS.includes(draft.kind) && (draft.value === null || draft.value <= 0)) local.value = t("offer.error.value");
  if (draft.kind === "discount_percent" && draft.value !== null && draft.value > 100) local.value = t("offer.error.percent");
  if (draft.kind === "discount_amount" && !/^[A-Za-z]{3}$/.test(draft.currency.trim())) local.currency = t("offer.error.currency");
  if (draft.starts && draft.ends && draft.ends <= draft.starts) local.ends = t("offer.error.window");
  if (draft.coupon_mode === "static" && !draft.static_code.trim()) local.static_code = t("offer.error.staticCode");
  const refused = refusedField(save.error);
  const fieldError = (f: Field): string | undefined =>
    (checked ? local[f] : undefined) ?? (refused === f && save.error ? errorText(save.error, t) : undefined);
  const status = (f: Field) => (fieldError(f) ? ("error" as const) : undefined);

  const submit = () => {
    setChecked(true);
    if (Object.keys(local).length === 0) save.mutate(draft);
  };

  return (
    <Form layout="vertical" className="offer-form" onFinish={submit} disabled={readOnly}>
      {offer?.status === "archived" ? <Alert type="info" showIcon className="page-alert" title={t("offer.archivedNote")} /> : null}
      {save.isError && !refused ? <Alert type="error" showIcon className="page-alert" title={t("offer.saveFailed")} description={errorText(save.error, t)} /> : null}
      <div className="offer-grid">
        <Form.Item label={t("offer.name")} htmlFor="offer-name" required validateStatus={status("name")} help={fieldError("name")}>
          <Input id="offer-name" value={draft.name} maxLength={200} onChange={(e) => set("name", e.target.value)} />
        </Form.Item>
        <Form.Item
          label={t("offer.key")}
          htmlFor="offer-key"
          required={!offer}
          validateStatus={status("key")}
          help={fieldError("key") ?? t("offer.key.hint")}
        >
          <Input id="offer-key" value={draft.key} maxLength={100} disabled={!!offer || readOnly} onChange={(e) => set("key", e.target.value.toLowerCase())} />
        </Form.Item>
      </div>
      <Form.Item label={t("offer.description")} htmlFor="offer-description">
        <Input.TextArea id="offer-description" value={draft.description} autoSize={{ minRows: 2, maxRows: 5 }} onChange={(e) => set("description", e.target.value)} />
      </Form.Item>
      <div className="offer-grid">
        <Form.Item label={t("offer.kind")} htmlFor="offer-kind" validateStatus={status("kind")} help={fieldError("kind")}>
          <Select
            id="offer-kind"
            value={draft.kind}
            onChange={(v: OfferKind) => set("kind", v)}
            options={KINDS.map((k) => ({ value: k, label: t(kindLabel(k)) }))}
          />
        </Form.Item>
        {draft.kind !== "free_shipping" ? (
          <Form.Item
            label={t(draft.kind === "discount_percent" ? "offer.value.percent" : draft.kind === "points" ? "offer.value.points" : draft.kind === "gift" ? "offer.value.gift" : "offer.value.amount")}
            htmlFor="offer-value"
            required={VALUED_KINDS.includes(draft.kind)}
            validateStatus={status("value")}
            help={fieldError("value")}
          >
            <InputNumber id="offer-value" value={draft.value} min={0} max={draft.kind === "discount_percent" ? 100 : undefined} style={{ width: "100%" }} onChange={(v) => set("value", typeof v === "number" ? v : null)} />
          </Form.Item>
        ) : (
          <div />
        )}
        {draft.kind === "discount_amount" ? (
          <Form.Item label={t("offer.currency")} htmlFor="offer-currency" required validateStatus={status("currency")} help={fieldError("currency")}>
            <Select
              id="offer-currency"
              showSearch
              value={draft.currency || undefined}
              onChange={(v: string) => set("currency", v)}
              options={currencyList.map((c) => ({ value: c, label: c }))}
            />
          </Form.Item>
        ) : null}
      </div>
      <fieldset className="offer-fieldset">
        <legend>{t("offer.window")}</legend>
        <p className="text-secondary field-hint">{t("offer.window.hint", { zone: zone ?? "UTC" })}</p>
        <div className="offer-grid">
          <Form.Item label={t("offer.startsAt")} htmlFor="offer-starts" validateStatus={status("starts")} help={fieldError("starts")}>
            <Input id="offer-starts" type="datetime-local" value={draft.starts} onChange={(e) => set("starts", e.target.value)} />
          </Form.Item>
          <Form.Item label={t("offer.endsAt")} htmlFor="offer-ends" validateStatus={status("ends")} help={fieldError("ends") ?? t("offer.endsAt.hint")}>
            <Input id="offer-ends" type="datetime-local" value={draft.ends} onChange={(e) => set("ends", e.target.value)} />
          </Form.Item>
        </div>
      </fieldset>
      <fieldset className="offer-fieldset">
        <legend>{t("offer.limits")}</legend>
        <div className="offer-grid">
          <Form.Item label={t("offer.priority")} htmlFor="offer-priority" validateStatus={status("priority")} help={fieldError("priority") ?? t("offer.priority.hint")}>
            <InputNumber id="offer-priority" value={draft.priority} min={-1_000_000} max={1_000_000} precision={0} style={{ width: "100%" }} onChange={(v) => set("priority", typeof v === "number" ? v : 0)} />
          </Form.Item>
          <Form.Item label={t("offer.perContact")} htmlFor="offer-per-contact" validateStatus={status("per_contact_limit")} help={fieldError("per_contact_limit") ?? t("offer.perContact.hint")}>
            <InputNumber id="offer-per-contact" value={draft.per_contact_limit} min={1} max={1000} precision={0} style={{ width: "100%" }} onChange={(v) => set("per_contact_limit", typeof v === "number" ? v : 1)} />
          </Form.Item>
          <Form.Item label={t("offer.totalLimit")} htmlFor="offer-total" validateStatus={status("total_limit")} help={fieldError("total_limit") ?? t("offer.totalLimit.hint")}>
            <InputNumber id="offer-total" value={draft.total_limit} min={1} precision={0} style={{ width: "100%" }} onChange={(v) => set("total_limit", typeof v === "number" ? v : null)} />
          </Form.Item>
        </div>
      </fieldset>
      <fieldset className="offer-fieldset">
        <legend>{t("offer.coupon")}</legend>
        <Form.Item validateStatus={status("coupon_mode")} help={fieldError("coupon_mode")}>
          <Radio.Group
            aria-label={t("offer.coupon")}
            value={draft.coupon_mode}
            onChange={(e) => set("coupon_mode", e.target.value as CouponMode)}
            options={COUPON_MODES.map((m) => ({ value: m, label: t(`offer.coupon.${m}`) }))}
          />
        </Form.Item>
        <p className="text-secondary field-hint">{t(`offer.coupon.${draft.coupon_mode}.hint`)}</p>
        {draft.coupon_mode === "static" ? (
          <Form.Item label={t("offer.staticCode")} htmlFor="offer-static" required validateStatus={status("static_code")} help={fieldError("static_code")}>
            <Input id="offer-static" value={draft.static_code} maxLength={64} onChange={(e) => set("static_code", e.target.value.toUpperCase())} />
          </Form.Item>
        ) : null}
      </fieldset>
      <Eligibility
        value={draft.eligibility}
        onChange={(v) => set("eligibility", v)}
        readOnly={readOnly}
        error={refused === "eligibility" && save.error ? errorText(save.error, t) : null}
      />
      <Form.Item label={t("offer.status")} htmlFor="offer-status">
        <Radio.Group
          id="offer-status"
          aria-label={t("offer.status")}
          value={draft.status}
          onChange={(e) => set("status", e.target.value as Draft["status"])}
          options={[
            { value: "active", label: t("offers.validity.active") },
            { value: "paused", label: t("offers.validity.paused") },
          ]}
        />
      </Form.Item>
      {canEdit && offer?.status !== "archived" ? (
        <Space className="form-actions">
          <Button type="primary" htmlType="submit" loading={save.isPending}>
            {offer ? t("offer.save") : t("offer.create")}
          </Button>
          {offer ? (
            <Button
              danger
              loading={archive.isPending}
              onClick={() =>
                Modal.confirm({
                  title: t("offer.archiveConfirm", { name: offer.name }),
                  content: t("offer.archiveHint"),
                  okText: t("offer.archive"),
                  okButtonProps: { danger: true },
                  cancelText: t("common.cancel"),
                  onOk: () => archive.mutateAsync(),
                })
              }
            >
              {t("offer.archive")}
            </Button>
          ) : null}
        </Space>
      ) : null}
    </Form>
  );
}

/** `/offers/new`, `/offers/:id` (`?tab=codes`): the offer and its coupon pool. */
export default function OfferPage() {
  const { t, lang } = useI18n();
  const { id } = useParams();
  const offerId = id && /^\d+$/.test(id) ? Number(id) : null;
  const [params, setParams] = useSearchParams();
  const query = useOffer(offerId);
  const offer = query.data ?? null;
  const number = new Intl.NumberFormat(lang);

  if (offerId === null) {
    return (
      <>
        <p className="breadcrumb-link"><Link to="/offers">{t("offer.back")}</Link></p>
        <PageTitle title={t("offer.newTitle")}>{t("offer.newTitle")}</PageTitle>
        <OfferForm offer={null} />
      </>
    );
  }
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  if (!offer) return <Spin className="page-spin" />;
  const tab = params.get("tab") === "codes" && offer.coupon_mode === "pool" ? "codes" : "details";
  return (
    <>
      <p className="breadcrumb-link"><Link to="/offers">{t("offer.back")}</Link></p>
      <div className="page-head">
        <PageTitle title={offer.name}>{offer.name}</PageTitle>
        <Space wrap>
          <ValidityTag state={validity(offer)} />
          <span className="text-secondary">{t("offers.givenSummary", { given: number.format(offer.given), redeemed: number.format(offer.redeemed) })}</span>
        </Space>
      </div>
      <p className="text-secondary">
        <code>{offer.key}</code> · {t("offer.updated")} <DateTime value={offer.updated_at} />
      </p>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams(key === "codes" ? { tab: "codes" } : {}, { replace: true })}
        items={[
          { key: "details", label: t("offer.tab.details"), children: <OfferForm key={offer.updated_at} offer={offer} /> },
          ...(offer.coupon_mode === "pool" ? [{ key: "codes", label: t("offer.tab.codes"), children: <CouponPool offer={offer} /> }] : []),
        ]}
      />
    </>
  );
}
