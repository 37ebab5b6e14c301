import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  AutoComplete,
  Button,
  Checkbox,
  DatePicker,
  Drawer,
  Form,
  Input,
  InputNumber,
  message as antMessage,
  Select,
  Space,
  Spin,
  Tag,
} from "antd";
import { EditOutlined } from "@ant-design/icons";
import dayjs, { type Dayjs } from "dayjs";
import timezone from "dayjs/plugin/timezone";
import utc from "dayjs/plugin/utc";
import { api, unwrap } from "../../../api/client";
import type { ContactDetail, ContactWithTraits } from "../../../api/types";
import { useWorkspaceKey, useWorkspaceTimeZone } from "../../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../../components/ErrorAlert";
import { useI18n, type MessageKey } from "../../../i18n";
import { contactKey } from "./ProfileTags";
import {
  attributeType,
  changesOf,
  fieldErrors,
  initialValues,
  type Attribute,
  type AttributeType,
  type EditorValues,
  type FieldError,
  type FormValue,
  type ProfileField,
} from "./profileEdit";

dayjs.extend(utc);
dayjs.extend(timezone);

const WALL_CLOCK = "YYYY-MM-DDTHH:mm:ss";

/** The instant as the clock on the wall in `zone` shows it (the picker edits wall-clock time). */
export function wallClock(iso: string, zone: string | null): Dayjs {
  if (!zone) return dayjs(iso);
  try {
    return dayjs(dayjs(iso).tz(zone).format(WALL_CLOCK));
  } catch {
    return dayjs(iso); // a zone this browser does not know: its own
  }
}

/** The wall-clock time picked, read in `zone`, as an instant in UTC ("…Z"). */
export function instantOf(picked: Dayjs, zone: string | null): string {
  const minute = picked.second(0).millisecond(0);
  if (!zone) return minute.toISOString();
  try {
    return dayjs.tz(minute.format(WALL_CLOCK), zone).toISOString();
  } catch {
    return minute.toISOString();
  }
}

export function attributesKey(workspace: number | null) {
  return ["attributes", workspace] as const;
}

/** The workspace's typed attributes (`GET /attributes`), shared by the traits tab and the editor. */
export function useAttributes(enabled = true) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: attributesKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/attributes")),
    staleTime: 60_000,
    enabled,
  });
}

export function typeLabelKey(type: string): MessageKey | null {
  const known = attributeType(type);
  return known ? (`profile.attr.type.${known}` as MessageKey) : null;
}

/** A date-time attribute: an instant (date and time in the workspace's time zone, sent in
 * UTC) or, with "Date only", a calendar date (a birthday has no time zone). */
function DateTimeValue({
  id,
  value,
  onChange,
}: {
  id: string;
  value?: FormValue;
  onChange?: (value: FormValue) => void;
}) {
  const { t } = useI18n();
  const zone = useWorkspaceTimeZone();
  const text = typeof value === "string" ? value : null;
  const [dateOnly, setDateOnly] = useState(() => text !== null && /^\d{4}-\d{2}-\d{2}$/.test(text));
  const parsed: Dayjs | null = text && dayjs(text).isValid() ? (text.length === 10 ? dayjs(text) : wallClock(text, zone)) : null;
  const emit = (d: Dayjs | null, onlyDate: boolean) =>
    onChange?.(d ? (onlyDate ? d.format("YYYY-MM-DD") : instantOf(d, zone)) : null);
  return (
    <Space wrap>
      <DatePicker
        id={id}
        value={parsed}
        showTime={dateOnly ? false : { format: "HH:mm" }}
        format={dateOnly ? "YYYY-MM-DD" : "YYYY-MM-DD HH:mm"}
        onChange={(d: Dayjs | null) => emit(d, dateOnly)}
      />
      <Checkbox
        checked={dateOnly}
        onChange={(e) => {
          setDateOnly(e.target.checked);
          emit(parsed, e.target.checked);
        }}
      >
        {t("profile.attr.dateOnly")}
      </Checkbox>
      {!dateOnly && zone ? <span className="text-secondary">{t("profile.attr.timeZone", { zone })}</span> : null}
    </Space>
  );
}

/** The input of an attribute's type; the Form.Item around it hands it `value` and `onChange`
 * (and the error status, through antd's form context). */
function AttributeInput({
  attribute,
  type,
  id,
  value,
  onChange,
}: {
  attribute: Attribute;
  type: AttributeType;
  id: string;
  value?: FormValue;
  onChange?: (value: FormValue) => void;
}) {
  const { t } = useI18n();
  const described = attribute.description ? `${id}-help` : undefined;
  switch (type) {
    case "number":
      return (
        <InputNumber<number>
          id={id}
          value={typeof value === "number" ? value : null}
          onChange={(v) => onChange?.(v ?? null)}
          aria-describedby={described}
          style={{ width: 220 }}
        />
      );
    case "boolean":
      return (
        <Select<string>
          id={id}
          value={typeof value === "string" ? value : undefined}
          onChange={(v) => onChange?.(v ?? null)}
          allowClear
          placeholder={t("profile.attr.notSet")}
          options={[
            { value: "true", label: t("common.yes") },
            { value: "false", label: t("common.no") },
          ]}
          aria-describedby={described}
          style={{ width: 160 }}
        />
      );
    case "list":
      return (
        <Select<string[]>
          id={id}
          mode="tags"
          value={Array.isArray(value) ? value : []}
          onChange={(v) => onChange?.(v.length ? v : null)}
          open={false}
          suffixIcon={null}
          tokenSeparators={[","]}
          placeholder={t("profile.attr.listHint")}
          aria-describedby={described}
          style={{ width: "100%" }}
        />
      );
    case "datetime":
      return <DateTimeValue id={id} value={value} onChange={onChange} />;
    default:
      return (
        <Input
          id={id}
          value={typeof value === "string" ? value : value === null || value === undefined ? "" : String(value)}
          onChange={(e) => onChange?.(e.target.value)}
          aria-describedby={described}
          autoComplete="off"
        />
      );
  }
}

function useTimeZones(): string[] {
  return useMemo(() => {
    const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
    try {
      return intl.supportedValuesOf?.("timeZone") ?? [];
    } catch {
      return [];
    }
  }, []);
}

/**
 * "Edit profile": the built-in fields and the workspace's typed attributes, each with the input
 * of its type. Only what changed is sent (`PATCH /contacts/{id}`); an emptied field or
 * attribute is removed. An error the server names a field for is shown on that field.
 */
export function ProfileEditor({ contact, title }: { contact: ContactWithTraits; title: string }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  // here, not in the drawer: the message outlives it
  const [message, messageHolder] = antMessage.useMessage();
  return (
    <>
      {messageHolder}
      <Button icon={<EditOutlined />} onClick={() => setOpen(true)}>
        {t("profile.edit")}
      </Button>
      {open ? (
        <EditorDrawer
          contact={contact}
          title={title}
          onClose={() => setOpen(false)}
          onSaved={() => {
            setOpen(false);
            void message.success(t("profile.edit.saved"));
          }}
        />
      ) : null}
    </>
  );
}

function EditorDrawer({
  contact,
  title,
  onClose,
  onSaved,
}: {
  contact: ContactWithTraits;
  title: string;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<EditorValues>();
  const attributes = useAttributes();
  const list = useMemo(
    () => (attributes.data?.data ?? []).filter((a) => attributeType(a.type) !== null),
    [attributes.data],
  );
  const initial = useMemo(() => initialValues(contact, list), [contact, list]);
  const [notice, setNotice] = useState<"nothing" | "fix" | null>(null);
  const zones = useTimeZones();

  const describe = (e: FieldError): string => {
    const r = e.reason;
    if ("message" in r) return r.message;
    if (r.key === "taken") return t("profile.error.taken", { id: r.id });
    if (r.key === "type") {
      const attribute = list.find((a) => a.name === r.attribute);
      const key = attribute ? typeLabelKey(attribute.type) : null;
      return t("profile.error.type", { type: key ? t(key) : (attribute?.type ?? "") });
    }
    return t(`profile.error.${r.key}`);
  };

  const save = useMutation({
    mutationFn: (body: ReturnType<typeof changesOf>) =>
      unwrap(api.PATCH("/api/v1/contacts/{contact_id}", { params: { path: { contact_id: contact.id } }, body })),
    onSuccess: (detail: ContactDetail) => {
      queryClient.setQueryData<ContactWithTraits>(contactKey(workspace, contact.id), (old) =>
        old ? { ...old, ...detail } : old,
      );
      void queryClient.invalidateQueries({ queryKey: ["contacts", workspace] });
      onSaved();
    },
    onError: (error) => {
      const errors = fieldErrors(error, list);
      if (errors.length) {
        const fields = errors.map((e) => ({ name: e.name, errors: [describe(e)] }));
        form.setFields(fields as Parameters<typeof form.setFields>[0]);
        setNotice("fix");
      }
    },
  });
  const fieldsFailed = save.isError && fieldErrors(save.error, list).length > 0;

  const submit = (values: EditorValues) => {
    setNotice(null);
    // untouched fields keep their initial value (Form only returns mounted fields)
    const merged: EditorValues = {
      fields: { ...initial.fields, ...values.fields },
      traits: { ...initial.traits, ...values.traits },
    };
    const body = changesOf(initial, merged, list);
    if (Object.keys(body).length === 0) {
      setNotice("nothing");
      return;
    }
    save.mutate(body);
  };

  const fieldLabel: Record<ProfileField, MessageKey> = {
    first_name: "profile.field.firstName",
    last_name: "profile.field.lastName",
    email: "profile.field.email",
    phone: "profile.field.phone",
    timezone: "profile.field.timezone",
    locale: "profile.field.locale",
  };

  return (
    <Drawer
      open
      onClose={onClose}
      title={t("profile.edit.title", { name: title })}
      size="large"
      destroyOnHidden
      footer={
        <Space>
          <Button type="primary" loading={save.isPending} onClick={() => form.submit()}>
            {t("common.save")}
          </Button>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
        </Space>
      }
    >
      {attributes.isPending ? (
        <Spin className="page-spin" />
      ) : (
        <Form<EditorValues>
          form={form}
          layout="vertical"
          initialValues={initial}
          onFinish={submit}
          onValuesChange={() => setNotice(null)}
          className="profile-editor"
        >
          {notice === "nothing" ? (
            <Alert type="info" showIcon title={t("profile.edit.nothingChanged")} className="page-alert" />
          ) : notice === "fix" && fieldsFailed ? (
            <Alert type="error" showIcon title={t("profile.edit.fixFields")} className="page-alert" />
          ) : save.isError && !fieldsFailed ? (
            <div className="page-alert">
              <Alert type="error" showIcon title={errorText(save.error, t)} />
            </div>
          ) : null}
          <h2 className="section-title">{t("profile.edit.fields")}</h2>
          <div className="editor-grid">
            {(Object.keys(fieldLabel) as ProfileField[]).map((f) => (
              <Form.Item key={f} name={["fields", f]} label={t(fieldLabel[f])} htmlFor={`edit-${f}`}>
                {f === "timezone" ? (
                  <AutoComplete
                    id={`edit-${f}`}
                    options={zones.map((z) => ({ value: z }))}
                    showSearch={{
                      filterOption: (input, option) =>
                        String(option?.value ?? "").toLowerCase().includes(input.toLowerCase()),
                    }}
                    allowClear
                  />
                ) : (
                  <Input id={`edit-${f}`} autoComplete="off" />
                )}
              </Form.Item>
            ))}
          </div>
          <h2 className="section-title">{t("profile.edit.attributes")}</h2>
          {attributes.isError ? (
            <ErrorAlert error={attributes.error} onRetry={() => void attributes.refetch()} />
          ) : list.length === 0 ? (
            <p className="text-secondary">{t("profile.edit.noAttributes")}</p>
          ) : (
            list.map((a) => {
              const type = attributeType(a.type) as AttributeType;
              const id = `edit-trait-${a.name}`;
              const typeKey = typeLabelKey(a.type);
              return (
                <Form.Item
                  key={a.name}
                  name={["traits", a.name]}
                  htmlFor={id}
                  label={
                    <span>
                      {a.label || a.name} <Tag className="type-tag">{typeKey ? t(typeKey) : a.type}</Tag>
                    </span>
                  }
                  extra={a.description ? <span id={`${id}-help`}>{a.description}</span> : undefined}
                >
                  <AttributeInput attribute={a} type={type} id={id} />
                </Form.Item>
              );
            })
          )}
        </Form>
      )}
    </Drawer>
  );
}
