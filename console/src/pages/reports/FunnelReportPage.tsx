// A funnel (POST /reports/funnel): 2–10 steps named by event, the contacts who did each in
// order within N days of their first step, over a range of days. The funnel asked for is in
// the address (?step=…&step=…&within=7&from=&to=): it can be linked to and reloaded.
import { useMemo, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Alert, AutoComplete, Button, InputNumber, Space, Table } from "antd";
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey, useWorkspaceToday } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { DateRangeControl } from "../../components/charts/DateRangeControl";
import { formatsFor } from "../../components/charts/format";
import { rangeFromSearch, rangeParams, withRange, type DayRange } from "../../components/charts/range";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { BackToReports, CsvButton } from "./common";
import { funnelChart } from "./reportData";
import { jsonReport, type FunnelRequest, type FunnelStep } from "./types";

export const MIN_STEPS = 2;
export const MAX_STEPS = 10;

/** The funnel in the address, if complete. */
export function funnelFromSearch(params: URLSearchParams, today?: string): { steps: string[]; within: number; range: DayRange } {
  const steps = params.getAll("step").map((s) => s.trim()).slice(0, MAX_STEPS);
  const within = Number(params.get("within") ?? 7);
  return {
    steps,
    within: Number.isInteger(within) && within >= 1 && within <= 365 ? within : 7,
    range: rangeFromSearch(params, 30, today),
  };
}

export function funnelRequest(steps: string[], within: number, range: DayRange): FunnelRequest {
  return { steps, within_days: within, ...rangeParams(range) };
}

export default function FunnelReportPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const workspace = useWorkspaceKey();
  const [params, setParams] = useSearchParams();
  const asked = funnelFromSearch(params, useWorkspaceToday());
  const ready = asked.steps.length >= MIN_STEPS && asked.steps.every(Boolean);

  const [steps, setSteps] = useState<string[]>(() => (asked.steps.length >= MIN_STEPS ? asked.steps : ["", ""]));
  const [within, setWithin] = useState<number | null>(asked.within);
  const [range, setRange] = useState<DayRange>(asked.range);
  const [missing, setMissing] = useState(false);

  const reference = useQuery({
    queryKey: ["segments", "reference", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/segments/reference")),
    staleTime: 5 * 60_000,
  });
  const eventOptions = useMemo(() => (reference.data?.events ?? []).map((e) => ({ value: e })), [reference.data]);

  const request = ready ? funnelRequest(asked.steps, asked.within, asked.range) : null;
  const query = useQuery({
    queryKey: ["reports", "funnel", workspace, request],
    enabled: request !== null,
    queryFn: async ({ signal }) =>
      jsonReport(await unwrap(api.POST("/api/v1/reports/funnel", { body: request as FunnelRequest, signal }))),
    placeholderData: keepPreviousData,
  });

  const run = (e?: FormEvent) => {
    e?.preventDefault();
    const named = steps.map((s) => s.trim());
    if (named.some((s) => !s)) {
      setMissing(true);
      return;
    }
    setMissing(false);
    const next = withRange(new URLSearchParams(), range);
    for (const s of named) next.append("step", s);
    // an emptied field keeps the window asked last
    next.set("within", String(within !== null && within >= 1 && within <= 365 ? within : asked.within));
    setParams(next);
  };

  const move = (i: number, by: -1 | 1) => {
    const next = [...steps];
    const [step] = next.splice(i, 1);
    next.splice(i + by, 0, step ?? "");
    setSteps(next);
  };
  const stepName = (i: number, event: string) => t("reports.funnel.stepName", { n: i, event });

  return (
    <>
      <BackToReports />
      <PageTitle title={t("reports.funnel.title")}>{t("reports.funnel.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("reports.funnel.intro")}</p>
      <form onSubmit={run} aria-label={t("reports.funnel.builder")} className="report-stack">
        <ol className="funnel-steps">
          {steps.map((step, i) => (
            <li key={i} className="funnel-step">
              <label htmlFor={`funnel-step-${i}`} className="funnel-step-number">
                {t("reports.funnel.step", { n: i + 1 })}
              </label>
              <AutoComplete
                id={`funnel-step-${i}`}
                value={step}
                options={eventOptions}
                style={{ width: 280 }}
                placeholder={t("reports.funnel.eventPlaceholder")}
                status={missing && !step.trim() ? "error" : undefined}
                filterOption={(input, option) => (option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
                onChange={(value: string) => setSteps(steps.map((s, j) => (j === i ? value : s)))}
              />
              <Button
                icon={<ArrowUpOutlined />}
                aria-label={t("reports.funnel.up", { n: i + 1 })}
                disabled={i === 0}
                onClick={() => move(i, -1)}
              />
              <Button
                icon={<ArrowDownOutlined />}
                aria-label={t("reports.funnel.down", { n: i + 1 })}
                disabled={i === steps.length - 1}
                onClick={() => move(i, 1)}
              />
              <Button
                icon={<DeleteOutlined />}
                aria-label={t("reports.funnel.remove", { n: i + 1 })}
                disabled={steps.length <= MIN_STEPS}
                onClick={() => setSteps(steps.filter((_, j) => j !== i))}
              />
            </li>
          ))}
        </ol>
        {missing ? <Alert type="error" showIcon title={t("reports.funnel.nameEveryStep")} /> : null}
        <Space wrap>
          <Button icon={<PlusOutlined />} disabled={steps.length >= MAX_STEPS} onClick={() => setSteps([...steps, ""])}>
            {t("reports.funnel.add")}
          </Button>
        </Space>
        <div className="report-controls">
          <div className="control">
            <span className="control-label">{t("reports.funnel.firstStepIn")}</span>
            <DateRangeControl value={range} onChange={setRange} />
          </div>
          <div className="control">
            <label className="control-label" htmlFor="funnel-within">
              {t("reports.funnel.within")}
            </label>
            <InputNumber
              id="funnel-within"
              min={1}
              max={365}
              value={within}
              onChange={(v) => setWithin(typeof v === "number" ? Math.round(v) : null)}
              suffix={t("reports.funnel.days")}
            />
          </div>
          <Button type="primary" htmlType="submit" loading={query.isFetching}>
            {t("reports.funnel.run")}
          </Button>
        </div>
      </form>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.data && request ? (
        <section aria-labelledby="funnel-result" className="analytics-section report-stack">
          <div className="report-header">
            <h2 id="funnel-result" className="section-title">
              {t("reports.funnel.result")}
            </h2>
            <CsvButton
              fetchCsv={() =>
                unwrap(
                  api.POST("/api/v1/reports/funnel", {
                    body: request,
                    params: { query: { format: "csv" } },
                    headers: { Accept: "text/csv" },
                    parseAs: "blob",
                  }),
                )
              }
              filename={`funnel-${asked.range.from}-${asked.range.to}.csv`}
            />
          </div>
          <ChartFigure
            title={t("reports.funnel.chart")}
            level={3}
            height={Math.max(200, query.data.steps.length * 56)}
            hint={t("reports.funnel.hint", { from: f.dayLong(asked.range.from), to: f.dayLong(asked.range.to), days: asked.within })}
            data={funnelChart(query.data, { step: t("reports.funnel.stepCol"), contacts: t("reports.funnel.contacts") }, stepName)}
          />
          <Table<FunnelStep & { n: number }>
            aria-label={t("reports.funnel.result")}
            rowKey="n"
            size="small"
            pagination={false}
            dataSource={query.data.steps.map((s, i) => ({ ...s, n: i + 1 }))}
            columns={[
              { title: t("reports.funnel.stepCol"), key: "n", render: (_: unknown, s) => stepName(s.n, s.event) },
              { title: t("reports.funnel.contacts"), key: "contacts", align: "right", render: (_: unknown, s) => f.number(s.contacts) },
              {
                title: t("reports.funnel.fromPrevious"),
                key: "prev",
                align: "right",
                render: (_: unknown, s) => f.percent(s.from_previous),
              },
              { title: t("reports.funnel.fromFirst"), key: "first", align: "right", render: (_: unknown, s) => f.percent(s.from_first) },
            ]}
          />
        </section>
      ) : null}
    </>
  );
}
