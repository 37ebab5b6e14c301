import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/settings";

// Scaffolding: replaced by the page itself in this session's work.
export default function WorkspacePage() {
  const { t } = useI18n();
  return <PageTitle title={t("nav.workspace")}>{t("nav.workspace")}</PageTitle>;
}
