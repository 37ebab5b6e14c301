import { useMemo, useState } from "react";
import { Button, Input, Radio, Space, Table, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useCanEdit } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { ChannelTag, channelLabel } from "./ChannelTag";
import { DeleteTemplate } from "./DeleteTemplate";
import { CHANNELS, isChannel, type Template } from "./model";
import { useTemplates } from "./queries";
import "../../i18n/content";
import "./templates.css";

/** `/templates`: every template, filtered by channel (`?channel=sms`) and name. */
export default function TemplatesPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const query = useTemplates();
  const [search, setSearch] = useState("");
  const channelParam = params.get("channel");
  const channel = isChannel(channelParam) ? channelParam : "all";
  const all = useMemo(() => query.data?.data ?? [], [query.data]);
  const counts = useMemo(() => {
    const out = new Map<string, number>();
    for (const tpl of all) out.set(tpl.channel, (out.get(tpl.channel) ?? 0) + 1);
    return out;
  }, [all]);
  const number = new Intl.NumberFormat(lang);

  const rows = useMemo(() => {
    const q = search.trim().toLocaleLowerCase();
    return all.filter((tpl) => (channel === "all" || tpl.channel === channel) && (!q || tpl.name.toLocaleLowerCase().includes(q)));
  }, [all, channel, search]);

  const columns: TableColumnsType<Template> = [
    {
      title: t("templates.col.name"),
      dataIndex: "name",
      sorter: (a, b) => a.name.localeCompare(b.name),
      render: (name: string, tpl) => <Link to={`/templates/${tpl.id}`}>{name}</Link>,
    },
    {
      title: t("templates.col.channel"),
      dataIndex: "channel",
      render: (c: Template["channel"]) => <ChannelTag channel={c} />,
    },
    {
      title: t("templates.col.version"),
      dataIndex: "version",
      align: "right",
      render: (v: number) => number.format(v),
    },
    {
      title: t("templates.col.updated"),
      dataIndex: "updated_at",
      sorter: (a, b) => a.updated_at.localeCompare(b.updated_at),
      defaultSortOrder: "descend",
      render: (v: string) => <DateTime value={v} />,
    },
    ...(canEdit
      ? [
          {
            title: <span className="visually-hidden">{t("common.actions")}</span>,
            key: "actions",
            width: 56,
            render: (_: unknown, tpl: Template) => <DeleteTemplate template={tpl} compact />,
          },
        ]
      : []),
  ];

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("templates.title")}>{t("templates.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/templates/new")}>
            {t("templates.new")}
          </Button>
        ) : null}
      </div>
      <p className="page-intro text-secondary">{t("templates.intro")}</p>
      <div className="list-search templates-filters">
        <Radio.Group
          aria-label={t("templates.filterChannel")}
          optionType="button"
          value={channel}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value === "all") next.delete("channel");
            else next.set("channel", e.target.value as string);
            setParams(next, { replace: true });
          }}
          options={[
            { value: "all", label: t("templates.allChannels", { n: number.format(all.length) }) },
            ...CHANNELS.filter((c) => counts.has(c) || c === channel).map((c) => ({
              value: c,
              label: t("templates.channelCount", { channel: t(channelLabel(c)), n: number.format(counts.get(c) ?? 0) }),
            })),
          ]}
        />
        <Space role="search">
          <label htmlFor="template-search">{t("templates.search")}</label>
          <Input.Search id="template-search" value={search} onChange={(e) => setSearch(e.target.value)} allowClear style={{ width: 260 }} />
        </Space>
      </div>
      {query.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
        </div>
      ) : null}
      <Table<Template>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{
          emptyText: search.trim()
            ? t("templates.noMatch", { q: search.trim() })
            : all.length > 0
              ? t("templates.noneOfChannel")
              : t("templates.empty"),
        }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button, .ant-modal")) return;
            navigate(`/templates/${record.id}`);
          },
        })}
      />
    </>
  );
}
