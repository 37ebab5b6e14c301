import { Tag } from "antd";
import { useI18n, type MessageKey } from "../../i18n";
import type { OfferKind, Validity } from "./model";

const VALIDITY_COLOURS: Record<Validity, string> = {
  active: "green",
  scheduled: "blue",
  paused: "orange",
  ended: "default",
  archived: "default",
};

export function ValidityTag({ state }: { state: Validity }) {
  const { t } = useI18n();
  return <Tag className={`k-tag-${VALIDITY_COLOURS[state]}`}>{t(`offers.validity.${state}` as MessageKey)}</Tag>;
}

export function kindLabel(kind: string): MessageKey {
  return `offers.kind.${kind as OfferKind}` as MessageKey;
}
