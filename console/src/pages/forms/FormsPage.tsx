import { useQuery } from "@tanstack/react-query";
import { Button, Table, Tag, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import type { Form } from "./model";
import "../../i18n/offers";
import "../offers/offers.css";

/** `/forms`: the hosted forms. */
export default function FormsPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const ws = useWorkspaceKey();
  const query = useQuery({ queryKey: ["forms", ws], queryFn: () => unwrap(api.GET("/api/v1/forms")) });
  const rows = query.data?.data ?? [];
  const number = new Intl.NumberFormat(lang);
  const columns: TableColumnsType<Form> = [
    {
      title: t("forms.col.name"),
      dataIndex: "name",
      render: (name: string, f) => (
        <>
          <Link to={`/forms/${f.id}`}>{name}</Link>
          <div className="text-secondary offer-key">{f.key}</div>
        </>
      ),
    },
    { title: t("forms.col.fields"), key: "fields", align: "right", render: (_, f) => number.format(f.fields.length) },
    { title: t("forms.col.consent"), key: "consent", align: "right", render: (_, f) => number.format(f.consent.length) },
    { title: t("forms.col.status"), dataIndex: "status", render: (s: string) => <Tag className={s === "active" ? "k-tag-green" : "k-tag-orange"}>{t(s === "active" ? "form.status.active" : "form.status.paused")}</Tag> },
    { title: t("forms.col.updated"), dataIndex: "updated_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("forms.col.submissions"), key: "subs", render: (_, f) => <Link to={`/forms/${f.id}?tab=submissions`}>{t("forms.viewSubmissions")}</Link> },
  ];
  return (
    <>
      <div className="page-head">
        <PageTitle title={t("forms.title")}>{t("forms.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/forms/new")}>
            {t("forms.new")}
          </Button>
        ) : null}
      </div>
      <p className="page-intro text-secondary">{t("forms.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Form>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("forms.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/forms/${record.id}`);
          },
        })}
      />
    </>
  );
}
