// The fetch stage (see fetch.h): messages in, claims committed into the spool.
#include "ncbocr/fetch_stage.h"

#include <filesystem>

#include "ncbocr/attachment.h"
#include "ncbocr/claim.h"
#include "ncbocr/gmail_source.h"
#include "ncbocr/imap_source.h"
#include "ncbocr/mime.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

constexpr char kActor[] = "fetch";
constexpr size_t kReasonListMax = 5;  // skipped parts named in a reason; all are in `skipped`

// One claim to create for a message.
struct ClaimPlan {
  std::string part;          // source key suffix: "0", "1", ..., "none", "failed"
  int part_index = 0;
  int part_count = 0;
  ClaimState state = ClaimState::kFetched;
  std::string reason;
  const MimePart* mime = nullptr;             // the receipt, if any
  const AttachmentDecision* decision = nullptr;
  const EmailInfo* info = nullptr;            // null if the email could not be read
  const std::string* raw = nullptr;           // kept as message.eml (review, failed)
  std::vector<std::string> skipped;
  std::vector<std::string> notes;
};

std::string JoinLimited(const std::vector<std::string>& items, size_t max) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    if (i) out += "; ";
    out += items[i];
  }
  if (items.size() > max) out += "; and " + std::to_string(items.size() - max) + " more";
  return out;
}

// Text from the sender or the source, kept to one line of the log.
std::string ForLog(const std::string& s, size_t max = 80) {
  return ReplaceControlChars(s.substr(0, max), '?');
}

class Fetcher {
 public:
  Fetcher(StageContext& ctx, MailSource& source) : ctx_(ctx), source_(source) {}

  StageReport Run() {
    auto refs = source_.List();
    if (!refs.ok()) {
      ctx_.log->error("cannot list {} messages: {}", source_.kind(), refs.status().ToString());
      report_.status = refs.status();
      return report_;
    }
    int total = static_cast<int>(refs->size());
    for (int n = 0; n < total; ++n) {
      Status s = ProcessMessage((*refs)[n], n + 1, total);
      if (!s.ok() && report_.status.ok()) report_.status = s;
    }
    ctx_.log->info("fetch: {} messages, {} new claims ({} fetched, {} duplicate, {} review, "
                   "{} failed), {} messages already fetched",
                   total, report_.claims, Count("fetched"), Count("duplicate"), Count("review"),
                   Count("failed"), Count("already_fetched"));
    return report_;
  }

 private:
  int Count(const std::string& k) const {
    auto it = report_.outcomes.find(k);
    return it == report_.outcomes.end() ? 0 : it->second;
  }

  // Ok when every claim of the message is committed (now or by an earlier run).
  Status ProcessMessage(const MailRef& ref, int n, int total) {
    const std::string kind = source_.kind();
    std::string done_key = SourceKey(kind, ref.email_id, "message");
    if (auto done = ctx_.spool.LookupSource(done_key)) {
      // An earlier run committed every claim; only the marking may be missing.
      ++report_.outcomes["already_fetched"];
      return Mark(ref, n, total);
    }
    received_at_ = ref.received ? IsoUtc(*ref.received) : IsoUtc(ctx_.clock.Now());
    email_id_ = ref.email_id;

    auto raw = source_.Read(ref, ctx_.config.fetch.max_message_bytes);
    if (!raw.ok() && raw.status().kind() != ErrorKind::kPermanent) {
      ctx_.log->warn("message {}/{} ({}): cannot read, will retry: {}", n, total,
                     EmailForLog(kind, ref.email_id), raw.status().ToString());
      ++report_.outcomes["read_error"];
      return raw.status();
    }

    std::vector<ClaimPlan> plans;
    std::optional<ParsedEmail> parsed;
    std::vector<AttachmentDecision> decisions;
    if (!raw.ok()) {
      plans.push_back(FailedPlan(raw.status().message(), nullptr));
    } else if (auto p = ParseEmail(*raw); !p.ok()) {
      plans.push_back(FailedPlan("cannot read as an email: " + p.status().message(), &*raw));
    } else {
      parsed = std::move(*p);
      plans = PlanClaims(*parsed, decisions, *raw);
    }

    // A message copied or re-delivered to the mailbox (a new IMAP UID, a new
    // UIDVALIDITY, a second Gmail id) is the same email: its Message-ID
    // finds the claims it already made.
    std::string mid_key = MessageIdKey(kind, parsed ? &parsed->info : nullptr);
    if (!mid_key.empty()) {
      if (auto first = ctx_.spool.LookupSource(mid_key)) {
        ctx_.log->info("message {}/{} ({}): same Message-ID as claim {}: already fetched", n, total,
                       EmailForLog(kind, ref.email_id), *first);
        ++report_.outcomes["same_message_id"];
        Status s = ctx_.spool.IndexSource(done_key, *first);
        if (!s.ok()) return s;
        return Mark(ref, n, total);
      }
    }

    Status first_error;
    std::string first_id;
    for (const ClaimPlan& plan : plans) {
      auto id = CreateClaim(plan);
      if (!id.ok()) {
        ctx_.log->error("message {}/{} part {}: claim not created: {}", n, total, plan.part,
                        id.status().ToString());
        ++report_.outcomes["error"];
        if (first_error.ok()) first_error = id.status();
      } else if (first_id.empty()) {
        first_id = *id;
      }
    }
    if (!first_error.ok()) return first_error;  // not marked: the next run finishes it
    Status s = ctx_.spool.IndexSource(done_key, first_id);
    if (s.ok() && !mid_key.empty()) s = ctx_.spool.IndexSource(mid_key, first_id);
    if (!s.ok()) return s;
    return Mark(ref, n, total);
  }

  Status Mark(const MailRef& ref, int n, int total) {
    Status s = source_.MarkProcessed(ref);
    if (!s.ok()) {
      ctx_.log->warn("message {}/{} ({}): claims committed but not marked processed: {}", n,
                     total, EmailForLog(source_.kind(), ref.email_id), s.ToString());
    }
    return s;
  }

  // The index key of a message's Message-ID, for the sources whose message
  // ids change when the same email arrives again; "" when there is none.
  static std::string MessageIdKey(const std::string& kind, const EmailInfo* info) {
    if (info == nullptr || (kind != "imap" && kind != "gmail")) return "";
    std::string mid = Trim(info->message_id);
    if (mid.size() < 3) return "";
    return SourceKey(kind, "message-id:" + mid, "message");
  }

  ClaimPlan FailedPlan(const std::string& problem, const std::string* raw) {
    ClaimPlan plan;
    plan.part = "failed";
    plan.state = ClaimState::kFailed;
    plan.reason = "email " + EmailForLog(source_.kind(), email_id_) + ": " + problem;
    plan.raw = raw;
    return plan;
  }

  std::vector<ClaimPlan> PlanClaims(const ParsedEmail& email,
                                    std::vector<AttachmentDecision>& decisions,
                                    const std::string& raw) {
    std::vector<std::string> skipped;
    std::vector<size_t> accepted;
    decisions.clear();
    for (const MimePart& part : email.parts) {
      decisions.push_back(ClassifyAttachment(part, ctx_.config.fetch));
      if (decisions.back().accept) {
        accepted.push_back(decisions.size() - 1);
      } else {
        skipped.push_back(decisions.back().reason);
      }
    }
    std::vector<ClaimPlan> plans;
    if (accepted.empty()) {
      ClaimPlan plan;
      plan.part = "none";
      plan.state = ClaimState::kReview;
      plan.reason = "no receipt attachment";
      if (!skipped.empty()) plan.reason += "; skipped: " + JoinLimited(skipped, kReasonListMax);
      if (!email.notes.empty()) plan.reason += " (" + JoinLimited(email.notes, kReasonListMax) + ")";
      plan.info = &email.info;
      plan.raw = &raw;
      plan.skipped = skipped;
      plan.notes = email.notes;
      plans.push_back(std::move(plan));
      return plans;
    }
    int count = static_cast<int>(accepted.size());
    for (int i = 0; i < count; ++i) {
      ClaimPlan plan;
      plan.part = std::to_string(i);
      plan.part_index = i;
      plan.part_count = count;
      plan.mime = &email.parts[accepted[i]];
      plan.decision = &decisions[accepted[i]];
      plan.info = &email.info;
      plan.skipped = skipped;
      plan.notes = email.notes;
      plans.push_back(std::move(plan));
    }
    return plans;
  }

  // Creates and commits one claim; returns its id (also when it existed).
  Result<std::string> CreateClaim(const ClaimPlan& plan) {
    std::string key = SourceKey(source_.kind(), email_id_, plan.part);
    std::string id;
    if (auto existing = ctx_.spool.LookupSource(key)) {
      if (ctx_.spool.Exists(*existing)) {
        ++report_.outcomes["already_fetched_claim"];
        return *existing;
      }
      id = *existing;  // indexed but never committed: a crash; same id again
      ctx_.log->warn("claim {}: re-creating after an interrupted fetch", id);
    } else {
      id = NewClaimId();
    }
    auto draft = ctx_.spool.NewDraft(id);
    if (!draft.ok()) return draft.status();
    Result<std::string> result = Fill(*draft, plan, key);
    if (!result.ok()) ctx_.spool.DiscardDraft(*draft);
    return result;
  }

  Result<std::string> Fill(ClaimDraft& d, const ClaimPlan& plan, const std::string& key) {
    Claim& c = d.claim;
    c.source.kind = source_.kind();
    c.source.email_id = email_id_;
    c.source.message_id = plan.info ? plan.info->message_id : "";
    c.source.source_key = key;
    c.source.part_index = plan.part_index;
    c.source.part_count = plan.part_count;
    c.source.received_at = received_at_;
    c.skipped = plan.skipped;
    if (!plan.notes.empty()) c.notes["mime"] = plan.notes;

    Status s;
    if (plan.info) {
      s = ctx_.spool.WriteDraftFile(d, "email.json", plan.info->ToJson().dump(2) + "\n");
      if (!s.ok()) return s;
    }
    if (plan.raw) {
      s = ctx_.spool.WriteDraftFile(d, "message.eml", *plan.raw);
      if (!s.ok()) return s;
    }
    ClaimState state = plan.state;
    std::string reason = plan.reason;
    std::string outcome = state == ClaimState::kReview   ? "review"
                          : state == ClaimState::kFailed ? "failed"
                                                         : "fetched";
    if (plan.mime) {
      Attachment a;
      a.filename = plan.decision->filename;
      a.content_type = MimeTypeFor(plan.decision->kind);
      a.sha256 = Sha256Hex(plan.mime->bytes);
      a.size = static_cast<long long>(plan.mime->bytes.size());
      a.stored_name = std::string("original.") + ExtensionFor(plan.decision->kind);
      s = ctx_.spool.WriteDraftFile(d, a.stored_name, plan.mime->bytes);
      if (!s.ok()) return s;
      c.attachment = a;
    }
    // Index the source before claiming the digest: a crash in between then
    // re-creates this id, which the digest index recognises as itself.
    s = ctx_.spool.IndexSource(key, c.id);
    if (!s.ok()) return s;
    if (c.attachment) {
      auto holder = ctx_.spool.ClaimSha(c.attachment->sha256, c.id);
      if (!holder.ok()) return holder.status();
      if (*holder && **holder != c.id) {
        state = ClaimState::kDuplicate;
        c.duplicate_of = **holder;
        reason = "same attachment as claim " + **holder;
        outcome = "duplicate";
      }
    }
    s = ctx_.spool.Commit(d, state, kActor, reason);
    if (!s.ok()) return s;
    ++report_.claims;
    ++report_.outcomes[outcome];
    std::string part = plan.mime ? "part " + std::to_string(plan.part_index + 1) + "/" +
                                       std::to_string(plan.part_count)
                                 : "no part";
    // Parked claims say why, naming the email by its source id; the reason
    // holds part numbers, types, sizes and fixed phrases, never names.
    if (reason.empty()) {
      ctx_.log->info("claim {}: {} (email {}, {})", c.id, outcome,
                     EmailForLog(c.source.kind, email_id_), part);
    } else {
      ctx_.log->log(state == ClaimState::kFailed ? spdlog::level::warn : spdlog::level::info,
                    "claim {}: {} (email {}, {}): {}", c.id, outcome,
                    EmailForLog(c.source.kind, email_id_), part, ForLog(reason, 400));
    }
    for (const std::string& skip : plan.skipped) ctx_.log->debug("claim {}: skipped {}", c.id, skip);
    return c.id;
  }

  StageContext& ctx_;
  MailSource& source_;
  StageReport report_;
  std::string email_id_;
  std::string received_at_;
};

}  // namespace

std::string SourceKey(const std::string& kind, const std::string& email_id,
                      const std::string& part) {
  return kind + ":" + email_id + "#" + part;
}

std::string EmailForLog(const std::string& kind, const std::string& email_id) {
  if (email_id.empty()) return kind + ":?";
  if (kind == "eml") return kind + ":" + Sha256Hex(email_id).substr(0, 12);
  return ForLog(kind + ":" + email_id, 100);
}

StageReport RunFetchStage(StageContext& ctx, MailSource& source) {
  return RunStage(ctx, [&] { return Fetcher(ctx, source).Run(); });
}

StageReport RunFetchStage(StageContext& ctx) {
  const std::string& kind = ctx.config.fetch.source;
  auto source = kind == "gmail"  ? MakeGmailSource(ctx.config, ctx.clock, ctx.log)
                : kind == "imap" ? MakeImapSource(ctx.config, ctx.log)
                                 : MakeMailSource(ctx.config.fetch);
  if (!source.ok()) {
    ctx.log->error("{}", source.status().ToString());
    StageReport r;
    r.status = source.status();
    return r;
  }
  return RunFetchStage(ctx, **source);
}

}  // namespace ncbocr
