// antd's RangePicker for a range of whole days, loaded lazily by DateRangeControl: the date
// picker is some 30 KB gzipped, more than the dashboard's share of the size budget, and the
// presets beside it are what most visits use.
import { DatePicker } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { dayCount, MAX_DAYS, type DayRange } from "./range";

export interface RangePickerFieldProps {
  value: DayRange;
  onChange: (range: DayRange) => void;
  /** the ids of the two inputs, for their labels */
  ids: { start: string; end: string };
  placeholder: [string, string];
}

export default function RangePickerField({ value, onChange, ids, placeholder }: RangePickerFieldProps) {
  const picked: [Dayjs, Dayjs] = [dayjs(value.from), dayjs(value.to)];
  return (
    <DatePicker.RangePicker
      id={ids}
      value={picked}
      allowClear={false}
      format="YYYY-MM-DD"
      placeholder={placeholder}
      disabledDate={(current, info) => {
        const from = info.from;
        return from ? Math.abs(current.diff(from, "day")) >= MAX_DAYS : false;
      }}
      onChange={(dates) => {
        const [from, to] = dates ?? [];
        if (!from || !to) return;
        const range = { from: from.format("YYYY-MM-DD"), to: to.format("YYYY-MM-DD") };
        if (dayCount(range) >= 1 && dayCount(range) <= MAX_DAYS) onChange(range);
      }}
    />
  );
}
