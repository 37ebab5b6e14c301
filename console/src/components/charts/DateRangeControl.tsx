// The date range of an analytics page: presets (the last 7, 30, 90 days) and antd's
// RangePicker (a lazy chunk: RangePickerField) for any other range of whole days (at most
// MAX_DAYS). The days are UTC days, as the reports count them: the picker's dates are taken
// as they read.
import { lazy, Suspense, useId } from "react";
import { Radio } from "antd";
import { useI18n } from "../../i18n";
import "../../i18n/analytics";
import { PRESET_DAYS, lastDays, presetOf, type DayRange } from "./range";

const RangePickerField = lazy(() => import("./RangePickerField"));

export interface DateRangeControlProps {
  value: DayRange;
  onChange: (range: DayRange) => void;
  /** the presets shown (default 7, 30, 90 days) */
  presets?: readonly number[];
}

export function DateRangeControl({ value, onChange, presets = PRESET_DAYS }: DateRangeControlProps) {
  const { t } = useI18n();
  const id = useId();
  const ids = { start: `${id}-from`, end: `${id}-to` };
  const preset = presetOf(value);

  return (
    <div className="date-range" role="group" aria-label={t("range.label")}>
      <Radio.Group
        optionType="button"
        aria-label={t("range.presets")}
        value={preset ?? undefined}
        onChange={(e) => onChange(lastDays(Number(e.target.value)))}
        options={presets.map((days) => ({ value: days, label: t("range.lastDays", { days }) }))}
      />
      <label htmlFor={ids.start} className="visually-hidden">
        {t("range.from")}
      </label>
      <label htmlFor={ids.end} className="visually-hidden">
        {t("range.to")}
      </label>
      <Suspense
        fallback={
          <span className="range-placeholder">
            {value.from} – {value.to}
          </span>
        }
      >
        <RangePickerField value={value} onChange={onChange} ids={ids} placeholder={[t("range.from"), t("range.to")]} />
      </Suspense>
    </div>
  );
}
