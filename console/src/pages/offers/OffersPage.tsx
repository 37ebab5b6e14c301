import { useMemo } from "react";
import { Alert, Button, Radio, Space, Table, Tag, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useCanEdit } from "../../auth/SessionProvider";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { ValidityTag, kindLabel } from "./common";
import { formatValue, isLowStock, validity, type Offer } from "./model";
import { useOffers } from "./queries";
import "../../i18n/offers";
import "./offers.css";

const FILTERS = ["current", "archived", "all"] as const;
type Filter = (typeof FILTERS)[number];

/** `/offers`: the offer library with each pool's stock; `?show=archived|all`. */
export default function OffersPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const query = useOffers();
  const show: Filter = FILTERS.find((f) => f === params.get("show")) ?? "current";
  const number = new Intl.NumberFormat(lang);
  const now = new Date();
  const rows = useMemo(
    () =>
      (query.data ?? [])
        .filter((o) => (show === "all" ? true : show === "archived" ? o.status === "archived" : o.status !== "archived"))
        .sort((a, b) => b.priority - a.priority || a.id - b.id),
    [query.data, show],
  );
  const low = rows.filter((o) => o.coupon_mode === "pool" && isLowStock(o.codes, validity(o, now)));

  const columns: TableColumnsType<Offer> = [
    {
      title: t("offers.col.name"),
      dataIndex: "name",
      render: (name: string, o) => (
        <>
          <Link to={`/offers/${o.id}`}>{name}</Link>
          <div className="text-secondary offer-key">{o.key}</div>
        </>
      ),
    },
    {
      title: t("offers.col.kind"),
      key: "kind",
      render: (_, o) => {
        const value = formatValue(o, lang);
        return (
          <>
            {t(kindLabel(o.kind))}
            {value ? <div className="offer-value">{value}</div> : null}
          </>
        );
      },
    },
    {
      title: t("offers.col.status"),
      key: "status",
      render: (_, o) => <ValidityTag state={validity(o, now)} />,
    },
    { title: t("offers.col.priority"), dataIndex: "priority", align: "right", render: (v: number) => number.format(v) },
    {
      title: t("offers.col.codes"),
      key: "codes",
      render: (_, o) => {
        if (o.coupon_mode === "static") return <code>{o.static_code}</code>;
        if (o.coupon_mode !== "pool" || !o.codes) return <span className="text-secondary">{t("offers.noCodes")}</span>;
        const c = o.codes;
        return (
          <Space size={4} wrap>
            <span>{t("offers.codesSummary", { free: number.format(c.free), assigned: number.format(c.assigned), redeemed: number.format(c.redeemed) })}</span>
            {isLowStock(c, validity(o, now)) ? <Tag className="k-tag-red">{t("offers.lowStock")}</Tag> : null}
          </Space>
        );
      },
    },
    {
      title: t("offers.col.given"),
      key: "given",
      align: "right",
      render: (_, o) => t("offers.givenSummary", { given: number.format(o.given), redeemed: number.format(o.redeemed) }),
    },
  ];

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("offers.title")}>{t("offers.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/offers/new")}>
            {t("offers.new")}
          </Button>
        ) : null}
      </div>
      <p className="page-intro text-secondary">{t("offers.intro")}</p>
      {low.length > 0 ? (
        <Alert
          type="warning"
          showIcon
          className="offers-low"
          title={t("offers.lowStockAlert", { n: number.format(low.length) })}
          description={low.map((o) => (
            <div key={o.id}>
              <Link to={`/offers/${o.id}?tab=codes`}>{o.name}</Link>: {t("offers.codesLeft", { n: number.format(o.codes?.free ?? 0) })}
            </div>
          ))}
        />
      ) : null}
      <div className="list-search">
        <Radio.Group
          aria-label={t("offers.show")}
          optionType="button"
          value={show}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value === "current") next.delete("show");
            else next.set("show", e.target.value as string);
            setParams(next, { replace: true });
          }}
          options={FILTERS.map((f) => ({ value: f, label: t(`offers.show.${f}`) }))}
        />
      </div>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Offer>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: show === "archived" ? t("offers.noneArchived") : t("offers.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/offers/${record.id}`);
          },
        })}
      />
    </>
  );
}
