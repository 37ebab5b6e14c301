import { Button, Dropdown } from "antd";
import { DownOutlined, GlobalOutlined } from "@ant-design/icons";
import { LANGUAGES, useI18n, type Language } from "../i18n";

/** English / 中文, before and after signing in. A menu button (no Select: lighter first load). */
export function LanguageSwitcher() {
  const { lang, setLang, t } = useI18n();
  const current = LANGUAGES.find((l) => l.code === lang) ?? LANGUAGES[0];
  return (
    <Dropdown
      trigger={["click"]}
      menu={{
        selectable: true,
        selectedKeys: [lang],
        items: LANGUAGES.map((l) => ({ key: l.code, label: <span lang={l.code}>{l.label}</span> })),
        onClick: ({ key }) => setLang(key as Language),
      }}
    >
      <Button type="text" icon={<GlobalOutlined />} aria-haspopup="menu">
        <span className="visually-hidden">{t("lang.label")}: </span>
        <span lang={current?.code}>{current?.label}</span>
        <DownOutlined className="button-caret" />
      </Button>
    </Dropdown>
  );
}
