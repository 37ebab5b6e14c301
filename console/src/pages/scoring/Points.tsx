import { useI18n } from "../../i18n";
import { signed } from "./model";
import "./scoring.css";

/** Signed points: "+10" in green, "−20" in red and bold (a true minus sign). */
export function Points({ value }: { value: number }) {
  const { lang } = useI18n();
  const tone = value < 0 ? " points-neg" : value > 0 ? " points-pos" : "";
  return <span className={`points${tone}`}>{signed(value, lang)}</span>;
}
