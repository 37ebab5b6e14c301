import { type ReactNode, useState } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ConfigProvider, type ThemeConfig } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import { I18nProvider, useI18n, type Language } from "./i18n";
import { ApiError } from "./api/http";

// Colours darker than antd's defaults where those miss WCAG AA contrast (4.5:1) on white:
// the primary blue (#1677ff is 4.1:1), the error red (#ff4d4f is 3.3:1), and the grey of
// secondary text (rgba(0,0,0,.45) is 3.4:1), and placeholders (rgba(0,0,0,.25) is 1.9:1; a
// select's placeholder is text that axe-core checks). antd derives hover and active
// shades lighter than the base colour (a hovered or refocused button would be white on
// #4096ff, 3:1), so they are set darker instead: a hovered control darkens, and keeps its
// contrast.
export const theme: ThemeConfig = {
  token: {
    colorPrimary: "#0958d9",
    colorPrimaryHover: "#003eb3",
    colorPrimaryActive: "#002c8c",
    colorPrimaryTextHover: "#003eb3",
    colorPrimaryTextActive: "#002c8c",
    colorLink: "#0958d9",
    colorLinkHover: "#003eb3",
    colorLinkActive: "#002c8c",
    colorError: "#cf1322",
    colorErrorHover: "#a8071a",
    colorErrorActive: "#820014",
    colorErrorTextHover: "#a8071a",
    colorErrorTextActive: "#820014",
    colorTextTertiary: "rgba(0, 0, 0, 0.62)",
    colorTextDescription: "rgba(0, 0, 0, 0.62)",
    colorTextPlaceholder: "rgba(0, 0, 0, 0.56)",
  },
  components: {
    Layout: { headerBg: "#ffffff", headerPadding: "0 24px" },
  },
};

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; a lost connection or a 5xx might.
        retry: (failures, error) =>
          !(error instanceof ApiError && error.status < 500) && failures < 2,
        refetchOnWindowFocus: false,
        staleTime: 15_000,
      },
      mutations: { retry: false },
    },
  });
}

function AntdProvider({ children }: { children: ReactNode }) {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={lang === "zh-CN" ? zhCN : enUS} theme={theme}>
      {children}
    </ConfigProvider>
  );
}

/** Everything but the router: server data, language, antd. */
export function AppProviders({
  children,
  queryClient,
  language,
}: {
  children: ReactNode;
  queryClient?: QueryClient;
  language?: Language;
}) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  return (
    <QueryClientProvider client={client}>
      <I18nProvider language={language}>
        <AntdProvider>{children}</AntdProvider>
      </I18nProvider>
    </QueryClientProvider>
  );
}
