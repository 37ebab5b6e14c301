import { lazy, Suspense, useState, type ReactNode } from "react";
import { Alert, Button, Dropdown, Layout, Menu, Space, Spin, Tag, type MenuProps } from "antd";
import {
  ApartmentOutlined,
  AuditOutlined,
  BankOutlined,
  BarChartOutlined,
  CheckSquareOutlined,
  ClockCircleOutlined,
  CloudSyncOutlined,
  ContactsOutlined,
  DashboardOutlined,
  NotificationOutlined,
  ProfileOutlined,
  RiseOutlined,
  SendOutlined,
  SettingOutlined,
  DownOutlined,
  FileTextOutlined,
  FunctionOutlined,
  FunnelPlotOutlined,
  KeyOutlined,
  LogoutOutlined,
  MenuFoldOutlined,
  MenuUnfoldOutlined,
  TagsOutlined,
  TeamOutlined,
  UserOutlined,
  UserSwitchOutlined,
} from "@ant-design/icons";
import { Outlet, useLocation, useNavigate } from "react-router";
import { signOut, signOutEverywhere, type Role } from "../api/session";
import { setCsrfToken } from "../api/state";
import { useSession } from "../auth/SessionProvider";
import { useI18n, type MessageKey } from "../i18n";
import { LanguageSwitcher } from "../components/LanguageSwitcher";
import { ErrorBoundary } from "../components/ErrorBoundary";
// The bell loads after the shell (its own chunk): the first visit stays within budget.
const NotificationsBell = lazy(() => import("./Notifications").then((m) => ({ default: m.NotificationsBell })));
const ForbiddenPage = lazy(() => import("../pages/ForbiddenPage"));

/**
 * The menu: only pages that exist. `roles`: shown only to those
 * roles (the server refuses the others anyway); no `roles`: everyone.
 */
export const NAV_ITEMS: { path: string; label: MessageKey; icon: ReactNode; group: MessageKey; roles?: Role[] }[] = [
  { path: "/dashboard", label: "nav.dashboard", icon: <DashboardOutlined />, group: "nav.analytics" },
  { path: "/reports", label: "nav.reports", icon: <BarChartOutlined />, group: "nav.analytics" },
  { path: "/contacts", label: "nav.contacts", icon: <TeamOutlined />, group: "nav.audiences" },
  { path: "/segments", label: "nav.segments", icon: <ApartmentOutlined />, group: "nav.audiences" },
  { path: "/computed-traits", label: "nav.computedTraits", icon: <FunctionOutlined />, group: "nav.audiences" },
  { path: "/tag-rules", label: "nav.tagRules", icon: <TagsOutlined />, group: "nav.audiences" },
  { path: "/scoring", label: "nav.scoring", icon: <RiseOutlined />, group: "nav.audiences" },
  {
    path: "/predictive-models",
    label: "nav.predictiveModels",
    icon: <FunctionOutlined />,
    group: "nav.audiences",
    roles: ["admin", "marketer", "analyst"],
  },
  { path: "/accounts", label: "nav.accounts", icon: <BankOutlined />, group: "nav.audiences" },
  { path: "/leads", label: "nav.leads", icon: <ContactsOutlined />, group: "nav.sales", roles: ["admin", "marketer", "sales"] },
  { path: "/tasks", label: "nav.tasks", icon: <CheckSquareOutlined />, group: "nav.sales", roles: ["admin", "marketer", "sales"] },
  { path: "/campaigns", label: "nav.campaigns", icon: <NotificationOutlined />, group: "nav.engage" },
  { path: "/calendar", label: "nav.calendar", icon: <ClockCircleOutlined />, group: "nav.engage" },
  { path: "/broadcasts", label: "nav.broadcasts", icon: <SendOutlined />, group: "nav.engage" },
  { path: "/journeys", label: "nav.journeys", icon: <ApartmentOutlined />, group: "nav.engage" },
  { path: "/templates", label: "nav.templates", icon: <FileTextOutlined />, group: "nav.content" },
  { path: "/offers", label: "nav.offers", icon: <TagsOutlined />, group: "nav.content" },
  { path: "/forms", label: "nav.forms", icon: <ProfileOutlined />, group: "nav.content" },
  { path: "/landing-pages", label: "nav.landingPages", icon: <FileTextOutlined />, group: "nav.content" },
  { path: "/settings/workspace", label: "nav.workspace", icon: <SettingOutlined />, group: "nav.settings" },
  { path: "/settings/channels", label: "nav.channels", icon: <SendOutlined />, group: "nav.settings" },
  { path: "/settings/topics", label: "nav.topics", icon: <NotificationOutlined />, group: "nav.settings" },
  { path: "/settings/messaging", label: "nav.messaging", icon: <ClockCircleOutlined />, group: "nav.settings" },
  { path: "/settings/attributes", label: "nav.attributes", icon: <ProfileOutlined />, group: "nav.settings" },
  {
    path: "/settings/leads",
    label: "nav.leadManagement",
    icon: <FunnelPlotOutlined />,
    group: "nav.settings",
    roles: ["admin", "marketer", "analyst"],
  },
  { path: "/settings/crm", label: "nav.crm", icon: <CloudSyncOutlined />, group: "nav.settings", roles: ["admin", "marketer", "analyst"] },
  { path: "/settings/users", label: "nav.users", icon: <UserSwitchOutlined />, group: "nav.settings", roles: ["admin"] },
  { path: "/settings/keys", label: "nav.keys", icon: <KeyOutlined />, group: "nav.settings", roles: ["admin"] },
  {
    path: "/settings/audit-log",
    label: "nav.auditLog",
    icon: <AuditOutlined />,
    group: "nav.settings",
    roles: ["admin", "analyst"],
  },
];

/**
 * What a sales user works with (docs/console.md, "The sales role"): their leads and tasks,
 * and the contacts and accounts behind them. Builders, reports and settings are not theirs.
 */
export const SALES_PATHS = ["/leads", "/tasks", "/contacts", "/accounts"];
/**
 * Read-only pages a sales user reaches from their work (a task's journey, a profile's
 * segments and score models), though not listed in their menu.
 */
const SALES_DETAIL = /^\/(journeys|segments|scoring|predictive-models)\/\d+$/;

/** The menu items a role sees. */
export function navItemsFor(role: Role | undefined) {
  return NAV_ITEMS.filter(
    (i) => (!i.roles || (role !== undefined && i.roles.includes(role))) && (role !== "sales" || SALES_PATHS.includes(i.path)),
  );
}

/**
 * A page the role may open. A sales user: the pages under their menu items, the detail
 * pages their work links to, and addresses outside the menu (the router answers "not
 * found" for unknown ones). The other roles read every page (what they cannot change, the
 * page hides; what they cannot read, the server refuses and the page says so).
 */
export function pathAllowed(role: Role | undefined, pathname: string): boolean {
  if (role !== "sales") return true;
  const item = NAV_ITEMS.find((i) => pathname === i.path || pathname.startsWith(`${i.path}/`));
  if (!item || navItemsFor(role).includes(item)) return true;
  return SALES_DETAIL.test(pathname);
}

/** The menu's items, in their groups (a group's title is hidden while the menu is collapsed). */
function navMenuItems(t: (key: MessageKey) => string, role: Role | undefined): MenuProps["items"] {
  const items = navItemsFor(role);
  const groups: MessageKey[] = [];
  for (const item of items) if (!groups.includes(item.group)) groups.push(item.group);
  return groups.map((group) => ({
    type: "group" as const,
    key: group,
    label: t(group),
    children: items.filter((i) => i.group === group).map((i) => ({ key: i.path, icon: i.icon, label: t(i.label) })),
  }));
}

function selectedNav(pathname: string): string[] {
  const item = NAV_ITEMS.find((i) => pathname === i.path || pathname.startsWith(`${i.path}/`));
  return item ? [item.path] : [];
}

export function SandboxTag() {
  const { t } = useI18n();
  return <Tag className="tag-sandbox">{t("shell.sandbox")}</Tag>;
}

function WorkspaceSwitcher() {
  const { session, workspace, selectWorkspace } = useSession();
  const { t } = useI18n();
  const navigate = useNavigate();
  if (!session || !workspace) return null;
  return (
    <Space size="small">
      <Dropdown
        trigger={["click"]}
        menu={{
          selectable: true,
          selectedKeys: [String(workspace.id)],
          items: session.workspaces.map((w) => ({
            key: String(w.id),
            label: (
              <span className="workspace-option">
                {w.name}
                {w.sandbox ? <SandboxTag /> : null}
              </span>
            ),
          })),
          onClick: ({ key }) => {
            if (Number(key) === workspace.id) return;
            selectWorkspace(Number(key));
            navigate("/");
          },
        }}
      >
        <Button aria-haspopup="menu" className="workspace-switcher">
          <span className="visually-hidden">{t("shell.workspace")}: </span>
          {workspace.name}
          {workspace.sandbox ? <SandboxTag /> : null}
          <DownOutlined className="button-caret" />
        </Button>
      </Dropdown>
      <span className="role-label">{t("shell.role", { role: t(`role.${workspace.role}`) })}</span>
    </Space>
  );
}

function UserMenu({ onFailure }: { onFailure: () => void }) {
  const { session } = useSession();
  const { t } = useI18n();
  if (!session) return null;

  const leave = async (how: () => Promise<void>) => {
    try {
      await how();
    } catch {
      onFailure();
      return;
    }
    // A full page load to the sign-in page: nothing of the session stays in memory.
    setCsrfToken(null);
    window.location.assign("/login");
  };

  const items: MenuProps["items"] = [
    { key: "email", label: session.user.email, disabled: true },
    { type: "divider" },
    { key: "sign-out", label: t("shell.signOut"), icon: <LogoutOutlined /> },
    { key: "sign-out-everywhere", label: t("shell.signOutEverywhere") },
  ];
  return (
    <Dropdown
      trigger={["click"]}
      menu={{
        items,
        onClick: ({ key }) => {
          if (key === "sign-out") void leave(signOut);
          if (key === "sign-out-everywhere") void leave(signOutEverywhere);
        },
      }}
    >
      <Button type="text" icon={<UserOutlined />} aria-haspopup="menu">
        {session.user.name}
      </Button>
    </Dropdown>
  );
}

export function AppShell() {
  const { workspace } = useSession();
  const { t } = useI18n();
  const location = useLocation();
  const navigate = useNavigate();
  const [collapsed, setCollapsed] = useState(false);
  const [signOutFailed, setSignOutFailed] = useState(false);

  return (
    <Layout className="app-shell">
      <a className="skip-link" href="#main">
        {t("shell.skipToContent")}
      </a>
      <Layout.Sider
        collapsible
        collapsed={collapsed}
        onCollapse={setCollapsed}
        trigger={null}
        breakpoint="lg"
        width={208}
      >
        <div className="brand">{collapsed ? "K" : t("app.name")}</div>
        <nav aria-label={t("nav.label")}>
          <Menu
            theme="dark"
            mode="inline"
            selectedKeys={selectedNav(location.pathname)}
            onClick={({ key }) => navigate(key)}
            items={navMenuItems(t, workspace?.role)}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header className="app-header">
          <Button
            type="text"
            icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
            aria-label={collapsed ? t("shell.expandMenu") : t("shell.collapseMenu")}
            aria-expanded={!collapsed}
            onClick={() => setCollapsed(!collapsed)}
          />
          <WorkspaceSwitcher />
          <div className="header-spacer" />
          <Suspense fallback={null}>
            <NotificationsBell />
          </Suspense>
          <LanguageSwitcher />
          <UserMenu onFailure={() => setSignOutFailed(true)} />
        </Layout.Header>
        <Layout.Content id="main" tabIndex={-1} className="app-content">
          {signOutFailed ? (
            <Alert
              type="error"
              showIcon
              closable={{ onClose: () => setSignOutFailed(false) }}
              title={t("shell.signOutFailed")}
              style={{ marginBottom: 16 }}
            />
          ) : null}
          {workspace ? (
            <ErrorBoundary
              key={location.pathname}
              fallback={() => (
                <>
                  <h1 className="result-title">{t("shell.pageFailed")}</h1>
                  <Button style={{ marginTop: 16 }} onClick={() => window.location.reload()}>
                    {t("shell.reload")}
                  </Button>
                </>
              )}
            >
              <Suspense fallback={<Spin className="page-spin" />}>
                {pathAllowed(workspace.role, location.pathname) ? <Outlet /> : <ForbiddenPage />}
              </Suspense>
            </ErrorBoundary>
          ) : (
            <>
              <h1 className="result-title">{t("app.name")}</h1>
              <Alert type="info" showIcon title={t("shell.noWorkspace")} style={{ marginTop: 16 }} />
            </>
          )}
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
