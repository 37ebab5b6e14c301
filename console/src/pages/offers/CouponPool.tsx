import { useMemo, useRef, useState } from "react";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, InputNumber, Radio, Space, Table, Tag, type TableColumnsType } from "antd";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { useI18n, type MessageKey } from "../../i18n";
import {
  CODE_STATES,
  MAX_IMPORT,
  PREFIX_PATTERN,
  expiredCounts,
  isLowStock,
  parseCodes,
  validity,
  type CodeState,
  type Coupon,
  type Offer,
} from "./model";
import { offerKey, offersKey } from "./queries";

type CodesAdded = Awaited<ReturnType<typeof importCall>>;
const importCall = (offerId: number, codes: string[]) =>
  unwrap(api.POST("/api/v1/offers/{offer_id}/codes/import", { params: { path: { offer_id: offerId } }, body: { codes } }));

const PAGE = 50;
const MAX_FILE_BYTES = 5 * 1024 * 1024;

function Availability({ offer }: { offer: Offer }) {
  const { t, lang } = useI18n();
  const number = new Intl.NumberFormat(lang);
  const c = offer.codes ?? { total: 0, free: 0, assigned: 0, redeemed: 0 };
  const state = validity(offer);
  const expired = expiredCounts(c, state);
  const tiles: { key: MessageKey; value: number; hint?: MessageKey }[] = [
    { key: "pool.total", value: c.total },
    { key: "pool.free", value: c.free - expired.free, hint: "pool.free.hint" },
    { key: "pool.assigned", value: c.assigned - expired.assigned, hint: "pool.assigned.hint" },
    { key: "pool.redeemed", value: c.redeemed, hint: "pool.redeemed.hint" },
    { key: "pool.expired", value: expired.free + expired.assigned, hint: "pool.expired.hint" },
  ];
  return (
    <section aria-labelledby="pool-availability">
      <h2 id="pool-availability" className="section-title">{t("pool.availability")}</h2>
      {isLowStock(c, state) ? (
        <Alert
          type="warning"
          showIcon
          className="page-alert"
          title={c.free === 0 ? t("pool.empty") : t("pool.low", { n: number.format(c.free) })}
          description={t("pool.low.hint")}
        />
      ) : null}
      <dl className="pool-tiles">
        {tiles.map((tile) => (
          <div key={tile.key} className="pool-tile">
            <dt>{t(tile.key)}</dt>
            <dd>{number.format(tile.value)}</dd>
            {tile.hint ? <dd className="text-secondary pool-tile-hint">{t(tile.hint)}</dd> : null}
          </div>
        ))}
      </dl>
    </section>
  );
}

function Generate({ offer, onAdded }: { offer: Offer; onAdded: (added: CodesAdded) => void }) {
  const { t } = useI18n();
  const [count, setCount] = useState<number | null>(100);
  const [prefix, setPrefix] = useState("");
  const [length, setLength] = useState<number | null>(8);
  const head = prefix.trim().toUpperCase();
  const prefixBad = head !== "" && !PREFIX_PATTERN.test(head);
  const generate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/offers/{offer_id}/codes/generate", {
          params: { path: { offer_id: offer.id } },
          body: { count: count ?? 1, prefix: head || null, length: length ?? 8 },
        }),
      ),
    onSuccess: onAdded,
  });
  const sample = `${head}${"K7MQ2XHD9PWR3TNB".slice(0, Math.min(length ?? 8, 16))}${(length ?? 8) > 16 ? "…" : ""}`;
  return (
    <Form layout="vertical" onFinish={() => !prefixBad && count && generate.mutate()} className="pool-form">
      <h3 className="subsection-title">{t("pool.generate")}</h3>
      <p className="text-secondary field-hint">{t("pool.generate.hint")}</p>
      <Space wrap align="start">
        <Form.Item label={t("pool.count")} htmlFor="pool-count" required>
          <InputNumber id="pool-count" min={1} max={100_000} precision={0} value={count} onChange={(v) => setCount(typeof v === "number" ? v : null)} />
        </Form.Item>
        <Form.Item label={t("pool.prefix")} htmlFor="pool-prefix" validateStatus={prefixBad ? "error" : undefined} help={prefixBad ? t("pool.prefix.error") : undefined}>
          <Input id="pool-prefix" value={prefix} maxLength={20} placeholder="SPRING-" onChange={(e) => setPrefix(e.target.value.toUpperCase())} />
        </Form.Item>
        <Form.Item label={t("pool.length")} htmlFor="pool-length">
          <InputNumber id="pool-length" min={6} max={32} precision={0} value={length} onChange={(v) => setLength(typeof v === "number" ? v : null)} />
        </Form.Item>
      </Space>
      <p className="text-secondary">{t("pool.sample", { code: sample })}</p>
      {generate.isError ? <Alert type="error" showIcon className="page-alert" title={errorText(generate.error, t)} /> : null}
      <Button htmlType="submit" type="primary" loading={generate.isPending} disabled={!count || prefixBad}>
        {t("pool.generate.button", { n: count ?? 0 })}
      </Button>
    </Form>
  );
}

function Import({ offer, onAdded }: { offer: Offer; onAdded: (added: CodesAdded) => void }) {
  const { t, lang } = useI18n();
  const number = new Intl.NumberFormat(lang);
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const parsed = useMemo(() => parseCodes(text), [text]);
  const tooMany = parsed.codes.length > MAX_IMPORT;
  const send = useMutation({
    mutationFn: () => importCall(offer.id, parsed.codes),
    onSuccess: (added) => {
      setText("");
      setFileName(null);
      onAdded(added);
    },
  });
  const readFile = async (file: File) => {
    setFileError(null);
    if (file.size > MAX_FILE_BYTES) {
      setFileError(t("pool.import.tooBig"));
      return;
    }
    setFileName(file.name);
    setText(await file.text());
  };
  return (
    <Form layout="vertical" onFinish={() => parsed.codes.length > 0 && parsed.invalid.length === 0 && !tooMany && send.mutate()} className="pool-form">
      <h3 className="subsection-title">{t("pool.import")}</h3>
      <p className="text-secondary field-hint">{t("pool.import.hint")}</p>
      <Space wrap>
        <input
          ref={fileRef}
          id="pool-file"
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          className="visually-hidden"
          tabIndex={-1}
          aria-label={t("pool.import.file")}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void readFile(file);
            e.target.value = "";
          }}
        />
        <Button onClick={() => fileRef.current?.click()} aria-controls="pool-codes">
          {t("pool.import.file")}
        </Button>
        {fileName ? <span className="text-secondary">{fileName}</span> : null}
      </Space>
      {fileError ? <Alert type="error" showIcon className="page-alert" title={fileError} /> : null}
      <Form.Item label={t("pool.import.codes")} htmlFor="pool-codes" style={{ marginTop: 12 }}>
        <Input.TextArea id="pool-codes" value={text} autoSize={{ minRows: 4, maxRows: 10 }} onChange={(e) => setText(e.target.value)} placeholder={"SPRING-001\nSPRING-002"} className="mono" />
      </Form.Item>
      {text.trim() ? (
        <p aria-live="polite" className="text-secondary">
          {t("pool.import.parsed", { n: number.format(parsed.codes.length) })}
          {parsed.repeated ? ` ${t("pool.import.repeated", { n: number.format(parsed.repeated) })}` : ""}
          {parsed.header ? ` ${t("pool.import.header")}` : ""}
        </p>
      ) : null}
      {parsed.invalid.length > 0 ? (
        <Alert
          type="error"
          showIcon
          className="page-alert"
          title={t("pool.import.invalid", { n: number.format(parsed.invalid.length) })}
          description={
            <ul className="plain-list">
              {parsed.invalid.slice(0, 5).map((bad) => (
                <li key={bad.line}>{t("pool.import.invalidLine", { line: bad.line, text: bad.text })}</li>
              ))}
            </ul>
          }
        />
      ) : null}
      {tooMany ? <Alert type="error" showIcon className="page-alert" title={t("pool.import.tooMany", { n: number.format(MAX_IMPORT) })} /> : null}
      {send.isError ? <Alert type="error" showIcon className="page-alert" title={errorText(send.error, t)} /> : null}
      <Button htmlType="submit" type="primary" loading={send.isPending} disabled={parsed.codes.length === 0 || parsed.invalid.length > 0 || tooMany}>
        {t("pool.import.button", { n: parsed.codes.length })}
      </Button>
    </Form>
  );
}

function CodesList({ offer }: { offer: Offer }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const [state, setState] = useState<CodeState | "all">("all");
  const query = useInfiniteQuery({
    queryKey: ["offer-codes", ws, offer.id, state],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/offers/{offer_id}/codes", {
          params: { path: { offer_id: offer.id }, query: { limit: PAGE, after: pageParam ?? undefined, status: state === "all" ? undefined : state } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];
  const ended = validity(offer) === "ended";
  const contact = (id: number | null) => (id ? <Link to={`/contacts/${id}`}>{t("pool.contact", { id })}</Link> : null);
  const stateTag = (c: Coupon) => {
    if (ended && c.status !== "redeemed") return <Tag>{t("pool.state.expired")}</Tag>;
    const colours: Record<CodeState, string> = { free: "green", assigned: "blue", redeemed: "purple" };
    return <Tag className={`k-tag-${colours[c.status]}`}>{t(`pool.state.${c.status}`)}</Tag>;
  };
  const columns: TableColumnsType<Coupon> = [
    { title: t("pool.col.code"), dataIndex: "code", render: (code: string) => <code>{code}</code> },
    { title: t("pool.col.state"), key: "state", render: (_, c) => stateTag(c) },
    { title: t("pool.col.assignedTo"), key: "contact", render: (_, c) => contact(c.contact_id) },
    { title: t("pool.col.assignedAt"), dataIndex: "assigned_at", render: (v: string | null) => (v ? <DateTime value={v} /> : null) },
    { title: t("pool.col.redeemedBy"), key: "by", render: (_, c) => contact(c.redeemed_by) },
    { title: t("pool.col.redeemedAt"), dataIndex: "redeemed_at", render: (v: string | null) => (v ? <DateTime value={v} /> : null) },
    {
      title: t("pool.col.order"),
      key: "order",
      render: (_, c) => (c.order_id ? <code>{c.order_id}</code> : c.redemption_event_id ? t("pool.event", { id: c.redemption_event_id }) : null),
    },
  ];
  return (
    <section aria-labelledby="pool-codes-title">
      <h2 id="pool-codes-title" className="section-title">{t("pool.codes")}</h2>
      <Radio.Group
        aria-label={t("pool.filter")}
        optionType="button"
        value={state}
        onChange={(e) => setState(e.target.value as CodeState | "all")}
        options={[{ value: "all", label: t("pool.state.all") }, ...CODE_STATES.map((s) => ({ value: s, label: t(`pool.state.${s}`) }))]}
        className="pool-filter"
      />
      {state === "redeemed" ? <p className="text-secondary field-hint">{t("pool.redemptions.hint")}</p> : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Coupon>
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={false}
        size="small"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t(state === "all" ? "pool.noCodes" : "pool.noneInState") }}
      />
      {query.hasNextPage ? (
        <Button className="load-more" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t("pool.more")}
        </Button>
      ) : null}
    </section>
  );
}

/** The coupon pool of a pool offer: availability, generate, import, the codes. */
export function CouponPool({ offer }: { offer: Offer }) {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit() && offer.status !== "archived";
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [result, setResult] = useState<CodesAdded | null>(null);
  const number = new Intl.NumberFormat(lang);
  const onAdded = (added: CodesAdded) => {
    setResult(added);
    queryClient.setQueryData(offerKey(ws, offer.id), { ...offer, codes: added.codes });
    void queryClient.invalidateQueries({ queryKey: offersKey(ws) });
    void queryClient.invalidateQueries({ queryKey: ["offer-codes", ws, offer.id] });
  };
  return (
    <div className="coupon-pool">
      <Availability offer={offer} />
      {result ? (
        <Alert
          type={result.duplicate_count ? "warning" : "success"}
          showIcon
          closable
          onClose={() => setResult(null)}
          className="page-alert"
          role="status"
          title={t("pool.added", { n: number.format(result.added) })}
          description={
            result.duplicate_count ? (
              <>
                {t("pool.duplicates", { n: number.format(result.duplicate_count) })}{" "}
                <code>{(result.duplicates ?? []).slice(0, 10).join(", ")}</code>
              </>
            ) : undefined
          }
        />
      ) : null}
      {canEdit ? (
        <div className="pool-forms">
          <Generate offer={offer} onAdded={onAdded} />
          <Import offer={offer} onAdded={onAdded} />
        </div>
      ) : null}
      <CodesList offer={offer} />
    </div>
  );
}
