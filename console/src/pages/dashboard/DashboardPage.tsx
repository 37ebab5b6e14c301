// The home page: the workspace at a glance over a range of days (GET /reports/dashboard):
// tiles that link to their detail, and charts per day. ECharts loads after the tiles
// (ChartFigure): the page's own chunk stays small (the size budget counts entry + this page).
import type { ReactNode } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Spin } from "antd";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useSession, useWorkspaceKey, useWorkspaceToday } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { DateRangeControl } from "../../components/charts/DateRangeControl";
import { formatsFor, utcMidnightIn, type Formats } from "../../components/charts/format";
import { rangeFromSearch, rangeParams, withRange, type DayRange } from "../../components/charts/range";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import "../../i18n/analytics";
import type { DashboardReport } from "../reports/types";
import { dashboardCharts, dashboardRates, type DashboardSeries } from "./dashboardData";
import "../reports/analytics.css";

export const DEFAULT_DAYS = 30;

/** The dashboard of a range of UTC days. */
export function useDashboard(range: DayRange) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["dashboard", workspace, range.from, range.to],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/reports/dashboard", { params: { query: rangeParams(range) }, signal })),
    placeholderData: keepPreviousData,
  });
}

interface TileProps {
  label: string;
  value: string;
  sub?: ReactNode;
  /** the whole tile is a link to its detail */
  to?: string;
  children?: ReactNode;
}

function Tile({ label, value, sub, to, children }: TileProps) {
  const body = (
    <>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
      {sub ? <span className="tile-sub">{sub}</span> : null}
    </>
  );
  return (
    <li className="tile">
      {to ? (
        <Link to={to} className="tile-link">
          {body}
        </Link>
      ) : (
        <div className="tile-body">
          {body}
          {children}
        </div>
      )}
    </li>
  );
}

/** Live journeys or running broadcasts: the count, and the first few, each to its report. */
function ListTile({
  label,
  listed,
  path,
  f,
  emptyText,
  moreText,
}: {
  label: string;
  listed: DashboardReport["live_journeys"];
  path: string;
  f: Formats;
  emptyText: string;
  moreText: string;
}) {
  const shown = listed.items.slice(0, 3);
  return (
    <Tile label={label} value={f.number(listed.count)}>
      {shown.length === 0 ? (
        <span className="tile-sub">{emptyText}</span>
      ) : (
        <ul className="tile-items">
          {shown.map((item) => (
            <li key={item.id}>
              <Link to={`${path}/${item.id}`}>{item.name}</Link>
            </li>
          ))}
        </ul>
      )}
      <Link to="/reports" className="tile-more">
        {moreText}
      </Link>
    </Tile>
  );
}

const SERIES_KEYS: Record<DashboardSeries, MessageKey> = {
  day: "dashboard.series.day",
  newContacts: "dashboard.series.newContacts",
  events: "dashboard.series.events",
  sent: "dashboard.series.sent",
  delivered: "dashboard.series.delivered",
  opened: "dashboard.series.opened",
  clicked: "dashboard.series.clicked",
  conversions: "dashboard.series.conversions",
  revenue: "dashboard.series.revenue",
};

export default function DashboardPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const [params, setParams] = useSearchParams();
  const range = rangeFromSearch(params, DEFAULT_DAYS, useWorkspaceToday());
  const query = useDashboard(range);
  const report = query.data;

  const setRange = (next: DayRange) => setParams(withRange(params, next), { replace: true });

  return (
    <>
      <PageTitle title={t("dashboard.title")}>{t("dashboard.title")}</PageTitle>
      <div className="analytics-toolbar">
        <DateRangeControl value={range} onChange={setRange} />
        <span role="status" className="analytics-status">
          {query.isFetching ? (
            <>
              <Spin size="small" />
              <span className="visually-hidden">{t("dashboard.loading")}</span>
            </>
          ) : null}
        </span>
      </div>
      <p className="text-secondary analytics-hint">
        {t("dashboard.rangeHint", { from: f.dayLong(range.from), to: f.dayLong(range.to) })}
        {report ? (
          <>
            {" "}
            {t("dashboard.asOf")} <DateTime value={report.as_of} />
          </>
        ) : null}
      </p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {report ? <Dashboard report={report} f={f} /> : query.isPending ? <Spin className="page-spin" /> : null}
    </>
  );
}

/** Days are UTC days; said again with the workspace's time zone when its days start at another hour. */
function DaysHint() {
  const { t, lang } = useI18n();
  const zone = useSession().workspace?.time_zone;
  const time = utcMidnightIn(zone, lang);
  return (
    <p className="text-secondary analytics-hint">
      {t("dashboard.utcHint")}
      {time && zone ? <> {t("dashboard.zoneHint", { zone, time })}</> : null}
    </p>
  );
}

function Dashboard({ report, f }: { report: DashboardReport; f: Formats }) {
  const { t } = useI18n();
  const totals = report.totals;
  const rates = dashboardRates(totals);
  const charts = dashboardCharts(report, f, (key) => t(SERIES_KEYS[key]));
  const unconverted = Object.entries(report.revenue_unconverted);
  const goal = t("dashboard.goal", { event: report.goal.event, days: report.goal.window_days });

  return (
    <>
      <section aria-labelledby="dashboard-figures">
        <h2 id="dashboard-figures" className="visually-hidden">
          {t("dashboard.figures")}
        </h2>
        <ul className="tiles">
          <Tile
            label={t("dashboard.tile.contacts")}
            value={f.number(report.contacts.total)}
            sub={t("dashboard.tile.newContacts", { n: f.number(totals.new_contacts) })}
            to="/contacts"
          />
          <Tile
            label={t("dashboard.tile.events")}
            value={f.number(totals.events)}
            sub={t("dashboard.tile.perDay", { n: f.number(Math.round((10 * totals.events) / Math.max(report.days.length, 1)) / 10) })}
            to="/reports/funnel"
          />
          <Tile
            label={t("dashboard.tile.sent")}
            value={f.number(totals.sent)}
            sub={t("dashboard.tile.sentSub")}
            to="/reports"
          />
          <Tile
            label={t("dashboard.tile.delivered")}
            value={f.number(totals.delivered)}
            sub={t("dashboard.tile.deliveryRate", { rate: f.percent(rates.delivery) })}
            to="/reports"
          />
          <Tile
            label={t("dashboard.tile.opened")}
            value={f.number(totals.opened)}
            sub={t("dashboard.tile.openRate", { rate: f.percent(rates.open) })}
            to="/reports"
          />
          <Tile
            label={t("dashboard.tile.clicked")}
            value={f.number(totals.clicked)}
            sub={t("dashboard.tile.clickRate", { rate: f.percent(rates.click) })}
            to="/reports"
          />
          <Tile label={t("dashboard.tile.conversions")} value={f.number(totals.conversions)} sub={goal} to="/reports" />
          <Tile
            label={t("dashboard.tile.revenue")}
            value={f.money(totals.revenue, report.currency)}
            sub={
              unconverted.length > 0
                ? t("dashboard.tile.unconverted", {
                    amounts: unconverted.map(([currency, amount]) => f.money(amount, currency)).join(", "),
                  })
                : report.currency
                  ? t("dashboard.tile.revenueIn", { currency: report.currency })
                  : t("dashboard.tile.noCurrency")
            }
            to="/reports"
          />
          <ListTile
            label={t("dashboard.tile.journeys")}
            listed={report.live_journeys}
            path="/reports/journeys"
            f={f}
            emptyText={t("dashboard.tile.noJourneys")}
            moreText={t("dashboard.tile.allReports")}
          />
          <ListTile
            label={t("dashboard.tile.broadcasts")}
            listed={report.running_broadcasts}
            path="/reports/broadcasts"
            f={f}
            emptyText={t("dashboard.tile.noBroadcasts")}
            moreText={t("dashboard.tile.allReports")}
          />
        </ul>
      </section>
      <section aria-labelledby="dashboard-trends" className="analytics-section">
        <h2 id="dashboard-trends" className="section-title">
          {t("dashboard.trends")}
        </h2>
        <DaysHint />
        <div className="chart-grid">
          <ChartFigure level={3} title={t("dashboard.chart.contacts")} data={charts.contacts} />
          <ChartFigure level={3} title={t("dashboard.chart.events")} data={charts.events} hint={t("dashboard.eventsHint")} />
          <ChartFigure level={3} title={t("dashboard.chart.messages")} data={charts.messages} hint={t("dashboard.messagesHint")} />
          <ChartFigure level={3} title={t("dashboard.chart.conversions")} data={charts.conversions} hint={goal} />
        </div>
      </section>
    </>
  );
}
