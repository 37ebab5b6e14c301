import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/analytics";

// Scaffolding: replaced by the page itself in this session's work.
export default function DashboardPage() {
  const { t } = useI18n();
  return <PageTitle title={t("dashboard.title")}>{t("dashboard.title")}</PageTitle>;
}
