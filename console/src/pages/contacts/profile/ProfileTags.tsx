import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Button, Form, Input, message as antMessage, Space, Tag } from "antd";
import { CloseOutlined, PlusOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../../api/client";
import type { ContactDetail, ContactWithTraits } from "../../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../../auth/SessionProvider";
import { errorText } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";

export function contactKey(workspace: number | null, id: number) {
  return ["contact", workspace, id] as const;
}

/** The contact's tags; admins and marketers add and remove them, analysts only see them. */
export function ProfileTags({ contact }: { contact: ContactWithTraits }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [form] = Form.useForm<{ tag: string }>();

  const applied = (detail: ContactDetail) =>
    queryClient.setQueryData<ContactWithTraits>(contactKey(workspace, contact.id), (old) =>
      old ? { ...old, tags: detail.tags, updated_at: detail.updated_at } : old,
    );

  const add = useMutation({
    mutationFn: (tag: string) =>
      unwrap(api.POST("/api/v1/contacts/{contact_id}/tags/{tag}", { params: { path: { contact_id: contact.id, tag } } })),
    onSuccess: (detail, tag) => {
      applied(detail);
      form.resetFields();
      void message.success(t("profile.tagAdded", { tag }));
    },
    onError: (error) => void message.error(errorText(error, t)),
  });

  const remove = useMutation({
    mutationFn: (tag: string) =>
      unwrap(
        api.DELETE("/api/v1/contacts/{contact_id}/tags/{tag}", { params: { path: { contact_id: contact.id, tag } } }),
      ),
    onSuccess: (detail, tag) => {
      applied(detail);
      void message.success(t("profile.tagRemoved", { tag }));
    },
    onError: (error) => void message.error(errorText(error, t)),
  });

  return (
    <section aria-labelledby="profile-tags">
      {messageHolder}
      <h2 id="profile-tags" className="section-title">
        {t("profile.tags")}
      </h2>
      {contact.tags.length === 0 ? (
        <span className="text-secondary">{t("profile.noTags")}</span>
      ) : (
        <ul className="tag-list">
          {contact.tags.map((tag) => (
            <li key={tag}>
              <Tag className="contact-tag" variant="outlined">
                <span>{tag}</span>
                {canEdit ? (
                  <Button
                    type="text"
                    size="small"
                    className="tag-remove"
                    icon={<CloseOutlined />}
                    aria-label={t("profile.removeTag", { tag })}
                    loading={remove.isPending && remove.variables === tag}
                    onClick={() => remove.mutate(tag)}
                  />
                ) : null}
              </Tag>
            </li>
          ))}
        </ul>
      )}
      {canEdit ? (
        <Form form={form} layout="inline" requiredMark={false} className="tag-form" onFinish={({ tag }) => add.mutate(tag.trim())}>
          <Form.Item
            label={t("profile.newTag")}
            name="tag"
            rules={[{ required: true, whitespace: true, message: t("profile.newTag") }]}
          >
            <Input maxLength={100} autoComplete="off" />
          </Form.Item>
          <Space>
            <Button htmlType="submit" icon={<PlusOutlined />} loading={add.isPending}>
              {t("profile.addTag")}
            </Button>
          </Space>
        </Form>
      ) : null}
    </section>
  );
}
