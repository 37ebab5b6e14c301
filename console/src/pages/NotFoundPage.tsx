import { Button, Result } from "antd";
import { useNavigate } from "react-router";
import { PageTitle } from "../components/PageTitle";
import { useI18n } from "../i18n";

export default function NotFoundPage() {
  const { t } = useI18n();
  const navigate = useNavigate();
  return (
    <>
      <PageTitle title={t("errors.notFound")}>{t("errors.notFound")}</PageTitle>
      <Result
        status="404"
        subTitle={t("errors.notFoundHint")}
        extra={
          <Button type="primary" onClick={() => navigate("/")}>
            {t("errors.backHome")}
          </Button>
        }
      />
    </>
  );
}
