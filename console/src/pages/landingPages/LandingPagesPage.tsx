import { useQuery } from "@tanstack/react-query";
import { Button, Table, Tag, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/offers";
import "../offers/offers.css";

type LandingPage = components["schemas"]["PageRead"];

/** `/landing-pages`: the hosted pages, published or not. */
export default function LandingPagesPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const ws = useWorkspaceKey();
  const query = useQuery({ queryKey: ["landing-pages", ws], queryFn: () => unwrap(api.GET("/api/v1/landing-pages")) });
  const forms = useQuery({ queryKey: ["forms", ws], queryFn: () => unwrap(api.GET("/api/v1/forms")) });
  const formName = (id: number | null) => (id ? (forms.data?.data.find((f) => f.id === id)?.name ?? `#${id}`) : null);
  const rows = query.data?.data ?? [];
  const columns: TableColumnsType<LandingPage> = [
    {
      title: t("lps.col.title"),
      dataIndex: "title",
      render: (title: string, p) => (
        <>
          <Link to={`/landing-pages/${p.id}`}>{title}</Link>
          <div className="text-secondary offer-key">/{p.slug}</div>
        </>
      ),
    },
    { title: t("lps.col.form"), dataIndex: "form_id", render: (id: number | null) => (id ? <Link to={`/forms/${id}`}>{formName(id)}</Link> : <span className="text-secondary">{t("lps.noForm")}</span>) },
    { title: t("lps.col.status"), dataIndex: "status", render: (s: string) => <Tag className={s === "active" ? "k-tag-green" : "k-tag-default"}>{t(s === "active" ? "lp.published" : "lp.draft")}</Tag> },
    { title: t("lps.col.updated"), dataIndex: "updated_at", render: (v: string) => <DateTime value={v} /> },
    {
      title: t("lps.col.url"),
      key: "url",
      render: (_, p) =>
        p.status === "active" ? (
          <a href={p.url} target="_blank" rel="noreferrer noopener">
            {t("lps.open")}
          </a>
        ) : null,
    },
  ];
  return (
    <>
      <div className="page-head">
        <PageTitle title={t("lps.title")}>{t("lps.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/landing-pages/new")}>
            {t("lps.new")}
          </Button>
        ) : null}
      </div>
      <p className="page-intro text-secondary">{t("lps.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<LandingPage>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("lps.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/landing-pages/${record.id}`);
          },
        })}
      />
    </>
  );
}
