import { Button, Result } from "antd";
import { useNavigate } from "react-router";
import { PageTitle } from "../components/PageTitle";
import { useI18n } from "../i18n";

/**
 * What a page the role may not open shows instead (a direct address, an old bookmark): the
 * shell renders it in place of the page (its own chunk: the first visit stays within budget).
 */
export default function ForbiddenPage() {
  const { t } = useI18n();
  const navigate = useNavigate();
  return (
    <>
      <PageTitle title={t("errors.forbiddenTitle")}>{t("errors.forbiddenTitle")}</PageTitle>
      <Result
        status="403"
        subTitle={t("errors.forbiddenHint")}
        extra={
          <Button type="primary" onClick={() => navigate("/")}>
            {t("errors.goHome")}
          </Button>
        }
      />
    </>
  );
}
