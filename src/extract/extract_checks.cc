// The receipt's arithmetic, one check at a time (see extract_checks.h).
// Each check reports the first way it finds to arrive at the amount: one
// is enough evidence, and the note names the figures it used.
#include "extract/extract_checks.h"

#include <algorithm>
#include <cstdlib>

#include "ncbocr/util.h"

namespace ncbocr::internal {

namespace {

void AddLine(Evidence& e, size_t at) {
  if (at != std::string::npos) e.lines.push_back(at);
}

// The readings of a total line the arithmetic may use.
std::vector<Cents> UsableReadings(const MoneyLine& m, bool all) {
  return all ? m.readings : std::vector<Cents>{m.amount};
}

}  // namespace

Evidence CashLessChange(Cents v, const Figures& f) {
  Evidence e;
  for (Cents cash : f.cash) {
    for (Cents change : f.change) {
      if (!e.found && cash - change == v && change >= 0) {
        e.found = true;
        e.score = kArithmeticScore;
        e.why = "cash " + FormatCents(cash) + " - change " + FormatCents(change) + " = total";
        AddLine(e, f.cash_at);
        AddLine(e, f.change_at);
      }
    }
  }
  return e;
}

Evidence TenderedExactly(Cents v, bool labelled, const Figures& f) {
  Evidence e;
  if (f.change.empty() && labelled && std::find(f.cash.begin(), f.cash.end(), v) != f.cash.end()) {
    // Tendered exactly, no change: the cash line is a second witness of
    // the labelled amount.
    e.found = true;
    e.score = kWitnessScore;
    e.why = "cash " + FormatCents(v) + " tendered exactly";
    AddLine(e, f.cash_at);
  }
  return e;
}

Evidence PaidByCard(Cents v, bool labelled, const std::vector<MoneyLine>& ml) {
  Evidence e;
  if (!labelled) return e;
  for (const MoneyLine& m : ml) {
    // A line whose readings disagree witnesses nothing.
    if (m.kind != MoneyKind::kPaid || m.amount != v || m.readings.size() > 1 || m.alt_only)
      continue;
    e.found = true;
    e.score = kWitnessScore;
    e.why = "paid " + FormatCents(v) + " by card = total";
    e.lines.push_back(m.index);
    break;
  }
  return e;
}

Evidence SubtotalPlusTax(Cents v, const Figures& f, const std::vector<const MoneyLine*>& totals,
                         bool all) {
  // The base: the subtotal, or a total line below v (a total before tax or
  // before rounding).
  std::vector<std::pair<Cents, size_t>> bases;
  for (Cents b : f.subtotal) bases.push_back({b, f.subtotal_at});
  for (const MoneyLine* m : totals) {
    for (Cents b : UsableReadings(*m, all)) {
      if (b < v) bases.push_back({b, m->index});
    }
  }
  const std::vector<Cents> rounding = f.rounding.empty() ? std::vector<Cents>{0} : f.rounding;
  Evidence e;
  for (const auto& [b, at] : bases) {
    for (Cents tax : f.tax) {
      for (Cents rnd : rounding) {
        for (Cents sum : {b + tax + rnd, b + tax, b + rnd}) {
          if (e.found || sum != v || sum == b) continue;
          e.found = true;
          e.score = kArithmeticScore;
          e.why = "subtotal + tax + rounding = total";
          AddLine(e, at);
          if (tax != 0) e.lines.insert(e.lines.end(), f.tax_at.begin(), f.tax_at.end());
          if (rnd != 0) AddLine(e, f.rounding_at);
        }
      }
    }
  }
  return e;
}

Evidence SubtotalLessDiscount(Cents v, const Figures& f) {
  const std::vector<Cents> rounding = f.rounding.empty() ? std::vector<Cents>{0} : f.rounding;
  Evidence e;
  for (Cents d : f.discounts) {
    for (Cents b : f.subtotal) {
      for (Cents tax : f.tax) {
        for (Cents rnd : rounding) {
          if (e.found || d <= 0 || b - d + tax + rnd != v) continue;
          e.found = true;
          e.score = kArithmeticScore;
          e.why = "subtotal - discount (+ tax, rounding) = total";
          AddLine(e, f.subtotal_at);
          e.lines.insert(e.lines.end(), f.discount_at.begin(), f.discount_at.end());
        }
      }
    }
  }
  return e;
}

Evidence PartsAddUp(Cents v, const Figures& f, const std::vector<const MoneyLine*>& totals,
                    bool all) {
  const Cents rnd = f.rounding.empty() ? 0 : f.rounding.front();
  Evidence e;
  for (size_t i = 0; !e.found && i < totals.size(); ++i) {
    for (size_t j = i + 1; !e.found && j < totals.size(); ++j) {
      for (Cents a : UsableReadings(*totals[i], all)) {
        for (Cents b : UsableReadings(*totals[j], all)) {
          // Two equal totals ("Total 10.00", "Total incl. GST 10.00") are
          // one bill printed twice, not two parts.
          if (e.found || a == v || b == v || a == b || a + b + rnd != v) continue;
          e.found = true;
          e.score = kArithmeticScore;
          e.why = "totals per tax rate add up to the total";
          e.lines = {totals[i]->index, totals[j]->index};
          e.parts = {a, b};
        }
      }
    }
  }
  return e;
}

Evidence TotalPlusRounding(Cents v, int labelled, int seen, bool card, const Figures& f,
                           const std::vector<MoneyLine>& ml, const std::vector<Line>& lines) {
  Evidence e;
  for (Cents rnd : f.rounding) {
    for (const MoneyLine& m : ml) {
      // The total before rounding: a total line that is not itself the
      // rounded one.
      const bool before_rounding =
          m.kind == MoneyKind::kTotal ||
          (m.kind == MoneyKind::kStrongTotal && !HasLabel(lines[m.index].text, "ROUNDED") &&
           !HasLabel(lines[m.index].text, "ROUNDING"));
      if (e.found || !before_rounding) continue;
      for (Cents a : m.readings) {
        // Ringgit rounding goes to the nearest 5 sen; a zero rounding
        // proves something only about an amount two total lines show.
        if (!e.found && a + rnd == v && a > 0 && (rnd == 0 ? labelled >= 2 : v % 5 == 0) &&
            (labelled || seen == 0 || (card && rnd != 0))) {
          e.found = true;
          e.score = rnd != 0 ? kArithmeticScore : kZeroRoundingScore;
          e.why = "total + rounding adjustment = " + FormatCents(v);
          e.lines.push_back(m.index);
          AddLine(e, f.rounding_at);
        }
      }
    }
  }
  return e;
}

Evidence ItemsAddUp(Cents v, Cents items_sum, size_t item_count) {
  Evidence e;
  if (items_sum > 0 && items_sum == v) {
    e.found = true;
    e.score = item_count >= 2 ? kItemsScore : kOneItemScore;
    e.why = "items add up to the total";
  }
  return e;
}

Doubt CashContradicts(Cents chosen, const std::optional<Cents>& cash,
                      const std::optional<Cents>& change) {
  Doubt d;
  if (cash && change && *change >= 0 && *cash - *change != chosen && *cash > chosen) {
    d.found = true;
    d.cap = kContradicted;
    d.problem = "cash " + FormatCents(*cash) + " - change " + FormatCents(*change) +
                " does not equal the total " + FormatCents(chosen);
  }
  return d;
}

Doubt PaidOffByRounding(Cents chosen, const std::vector<MoneyLine>& ml) {
  Doubt d;
  for (const MoneyLine& m : ml) {
    if (m.kind != MoneyKind::kPaid || m.amount <= 0) continue;
    const Cents off = std::llabs(m.amount - chosen);
    if (off >= 1 && off <= 2) {
      d.found = true;
      d.cap = kContradicted;
      d.problem = "paid " + FormatCents(m.amount) + " differs from the total " +
                  FormatCents(chosen) + " by a rounding amount";
      d.lines.push_back(m.index);
      break;
    }
  }
  return d;
}

Doubt LaterTotalLarger(Cents chosen, size_t chosen_last,
                       const std::vector<const MoneyLine*>& totals) {
  Doubt d;
  for (const MoneyLine* m : totals) {
    if (m->index <= chosen_last || m->amount <= chosen) continue;
    if (std::find(m->readings.begin(), m->readings.end(), chosen) != m->readings.end()) continue;
    d.found = true;
    d.cap = kDoubted;
    d.problem = "a later total line shows " + FormatCents(m->amount);
    d.lines.push_back(m->index);
    break;
  }
  return d;
}

}  // namespace ncbocr::internal
