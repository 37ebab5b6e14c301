import { Tag } from "antd";
import { ApiOutlined, BellOutlined, MailOutlined, MessageOutlined, MobileOutlined, WechatOutlined } from "@ant-design/icons";
import type { ReactNode } from "react";
import { useI18n, type MessageKey } from "../../i18n";
import type { TemplateChannel } from "./model";

export const CHANNEL_ICON: Record<TemplateChannel, ReactNode> = {
  email: <MailOutlined />,
  sms: <MessageOutlined />,
  push: <MobileOutlined />,
  wechat: <WechatOutlined />,
  inapp: <BellOutlined />,
  webhook: <ApiOutlined />,
};

export const channelLabel = (channel: TemplateChannel): MessageKey => `content.channel.${channel}` as MessageKey;

export function ChannelTag({ channel }: { channel: TemplateChannel }) {
  const { t } = useI18n();
  return (
    <Tag variant="outlined" className={`tag-channel tag-channel-${channel}`} icon={CHANNEL_ICON[channel]}>
      {t(channelLabel(channel))}
    </Tag>
  );
}
