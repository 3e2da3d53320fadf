// The audit report (see audit_report.hpp).
#include "http/audit_report.hpp"

#include <fmt/format.h>

#include <string_view>

#include "core/html.hpp"
#include "core/time.hpp"
#include "http/report_page.hpp"

namespace yagura::http {
namespace {

// The report's own words. The audit's words are as the team and the organisation wrote them.
struct Words {
  std::string_view lang, title, generated;
  std::string_view audit_section, organisation, standard, period, objectives, status, issued,
      closed, conclusion, marking;
  std::string_view summary, in_scope, not_assessed, findings_by_risk, recommendations_line;
  std::string_view findings, no_findings, control, risk, recommendation, due, rec_status, overdue,
      follow_up, files;
  std::string_view controls, result, methods, note;
  std::string_view team, name, role;
  std::string_view none;
};

constexpr Words ENGLISH = {
    "en",
    "Audit report",
    "Written {} by {}.",
    "The audit",
    "Audited organisation",
    "Standard",
    "Planned period",
    "Objectives",
    "Status",
    "Report issued",
    "Closed",
    "Conclusion",
    "Marking",
    "Summary",
    "Controls in scope",
    "not assessed",
    "Findings by risk",
    "{} recommendations: {} still open, {} past their due date",
    "Findings and recommendations",
    "No finding was made.",
    "Control",
    "Risk",
    "Recommendation",
    "Due",
    "Status",
    "OVERDUE",
    "Follow-up",
    "Files",
    "Controls assessed",
    "Result",
    "Methods",
    "Note",
    "The audit team",
    "Name",
    "Role",
    "—",
};

constexpr Words JAPANESE = {
    "ja",
    "監査報告書",
    "{} に {} が作成。",
    "監査の概要",
    "監査対象組織",
    "基準",
    "予定期間",
    "監査の目的",
    "状態",
    "報告書発行",
    "終了",
    "結論",
    "取扱区分",
    "結果の要約",
    "対象管理策",
    "未評価",
    "リスク別の指摘事項",
    "改善勧告 {} 件: 未完了 {} 件、期限超過 {} 件",
    "指摘事項と改善勧告",
    "指摘事項はありません。",
    "管理策",
    "リスク",
    "改善勧告",
    "期限",
    "状態",
    "期限超過",
    "フォローアップ",
    "添付ファイル",
    "管理策ごとの評価",
    "評価結果",
    "評価方法",
    "所見",
    "監査チーム",
    "氏名",
    "役割",
    "—",
};

std::string_view ValueName(std::string_view value, AuditReportLanguage language) {
  if (language == AuditReportLanguage::kEnglish) {
    if (value == "not_assessed") return "not assessed";
    if (value == "partially_satisfied") return "partially satisfied";
    if (value == "not_satisfied") return "not satisfied";
    if (value == "not_applicable") return "not applicable";
    if (value == "in_progress") return "in progress";
    if (value == "risk_accepted") return "risk accepted";
    return value;
  }
  static const std::map<std::string_view, std::string_view> JA = {
      {"planning", "計画"},
      {"fieldwork", "実地監査"},
      {"reporting", "報告書作成"},
      {"issued", "報告書発行済"},
      {"closed", "終了"},
      {"cancelled", "中止"},
      {"not_assessed", "未評価"},
      {"satisfied", "適合"},
      {"partially_satisfied", "一部適合"},
      {"not_satisfied", "不適合"},
      {"not_applicable", "対象外"},
      {"examine", "文書確認"},
      {"interview", "聞き取り"},
      {"test", "検証"},
      {"low", "低"},
      {"moderate", "中"},
      {"high", "高"},
      {"critical", "重大"},
      {"open", "未着手"},
      {"in_progress", "対応中"},
      {"implemented", "対応済（確認待ち）"},
      {"verified", "確認済"},
      {"risk_accepted", "リスク受容"},
      {"lead", "主任"},
      {"member", "担当"},
      {"reader", "閲覧"},
  };
  auto found = JA.find(value);
  return found == JA.end() ? value : found->second;
}

std::string Esc(std::string_view text) { return HtmlEscaped(text); }
std::string Time(int64_t ms) { return FormatTimestampMs(ms); }
std::string Day(int64_t ms) { return FormatTimestampMs(ms).substr(0, 10); }

class Page {
 public:
  Page(const AuditReportInput& input, AuditReportLanguage language)
      : in_(input),
        audit_(input.record.audit),
        language_(language),
        w_(language == AuditReportLanguage::kJapanese ? JAPANESE : ENGLISH) {}

  std::string Render() {
    out_ += fmt::format(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>{} {} — {}</title>\n<style>{}</style></head><body>\n",
        w_.lang, Esc(audit_.reference), Esc(audit_.title), w_.title, REPORT_STYLE);
    out_ += TlpBanner(audit_.tlp);
    out_ += fmt::format("<h1>{}: {} {}</h1>\n", w_.title, Esc(audit_.reference), Esc(audit_.title));
    out_ += fmt::format(
        "<p class=\"note\">{}</p>\n",
        Esc(fmt::format(fmt::runtime(w_.generated), Time(in_.generated_at), in_.generated_by)));
    AuditSection();
    Summary();
    Findings();
    Controls();
    if (in_.show_team) Team();
    out_ += TlpBanner(audit_.tlp);
    out_ += "</body></html>\n";
    return std::move(out_);
  }

 private:
  std::string Value(std::string_view value) const { return Esc(ValueName(value, language_)); }
  std::string Name(const std::string& user_id) const {
    auto found = in_.user_names.find(user_id);
    return found == in_.user_names.end() ? user_id : found->second;
  }
  void Row(std::string_view name, const std::string& html) {
    out_ += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", name, html);
  }

  void AuditSection() {
    out_ += fmt::format("<h2>{}</h2>\n<table class=\"meta\">\n", w_.audit_section);
    Row(w_.organisation, Esc(audit_.auditee_name));
    Row(w_.standard,
        Esc(audit_.standard_title) +
            (in_.standard_version.empty() ? "" : " (" + Esc(in_.standard_version) + ")"));
    if (audit_.planned_start || audit_.planned_end) {
      Row(w_.period,
          Esc(fmt::format("{} – {}", audit_.planned_start ? Day(*audit_.planned_start) : "",
                          audit_.planned_end ? Day(*audit_.planned_end) : "")));
    }
    Row(w_.status, Value(hub::ToString(audit_.status)));
    if (audit_.issued_at) Row(w_.issued, Esc(Time(*audit_.issued_at)));
    if (audit_.closed_at) Row(w_.closed, Esc(Time(*audit_.closed_at)));
    Row(w_.marking, Esc(hub::TlpLabel(audit_.tlp)));
    Row(w_.objectives,
        "<pre>" + Esc(audit_.objectives.empty() ? w_.none : audit_.objectives) + "</pre>");
    if (audit_.conclusion) Row(w_.conclusion, "<pre>" + Esc(*audit_.conclusion) + "</pre>");
    out_ += "</table>\n";
  }

  void Summary() {
    const auto& controls = in_.record.controls;
    std::map<std::string, int64_t> results;
    for (const auto& scoped : controls) ++results[scoped.result];
    out_ += fmt::format("<h2>{}</h2>\n<table class=\"meta\">\n", w_.summary);
    std::string counts = fmt::format("{}", controls.size());
    std::string parts;
    for (std::string_view result : hub::ControlResultNames()) {
      auto found = results.find(std::string(result));
      if (found == results.end()) continue;
      parts += fmt::format("{}{}: {}", parts.empty() ? "" : ", ", Value(result), found->second);
    }
    Row(w_.in_scope, counts + (parts.empty() ? "" : " (" + parts + ")"));
    std::map<std::string, int64_t> risks;
    for (const auto& finding : in_.record.results.findings) ++risks[finding.risk];
    std::string by_risk;
    for (std::string_view risk : hub::FindingRiskNames()) {
      auto found = risks.find(std::string(risk));
      if (found == risks.end()) continue;
      by_risk += fmt::format("{}{}: {}", by_risk.empty() ? "" : ", ", Value(risk), found->second);
    }
    Row(w_.findings_by_risk, by_risk.empty() ? std::string(w_.none) : by_risk);
    int64_t open = 0, overdue = 0;
    for (const auto& recommendation : in_.record.results.recommendations) {
      if (recommendation.status != "verified" && recommendation.status != "risk_accepted") ++open;
      if (recommendation.OverdueAt(in_.generated_at)) ++overdue;
    }
    Row(w_.recommendation,
        Esc(fmt::format(fmt::runtime(w_.recommendations_line),
                        in_.record.results.recommendations.size(), open, overdue)));
    out_ += "</table>\n";
  }

  const hub::ScopedControl* ControlOf(const std::string& control_id) const {
    for (const auto& scoped : in_.record.controls) {
      if (scoped.control.control_id == control_id) return &scoped;
    }
    return nullptr;
  }

  std::string ControlName(const hub::StandardControl& control) const {
    return Esc(control.label.empty() ? control.control_id : control.label);
  }

  void Findings() {
    out_ += fmt::format("<h2>{}</h2>\n", w_.findings);
    if (in_.record.results.findings.empty()) {
      out_ += fmt::format("<p>{}</p>\n", w_.no_findings);
      return;
    }
    for (const auto& finding : in_.record.results.findings) {
      const hub::ScopedControl* scoped = ControlOf(finding.control_id);
      out_ += "<div class=\"item\">\n";
      out_ += fmt::format("<h3>{} {} <span class=\"{}\">[{}: {}]</span></h3>\n",
                          Esc(finding.reference), Esc(finding.title),
                          finding.risk == "high" || finding.risk == "critical" ? "bad" : "note",
                          w_.risk, Value(finding.risk));
      out_ += "<table class=\"meta\">\n";
      Row(w_.control, scoped != nullptr
                          ? ControlName(scoped->control) + " " + Esc(scoped->control.title) + " (" +
                                Value(scoped->result) + ")"
                          : Esc(finding.control_id));
      if (!finding.description.empty()) {
        Row(w_.note, "<pre>" + Esc(finding.description) + "</pre>");
      }
      out_ += "</table>\n";
      for (const auto& recommendation : in_.record.results.recommendations) {
        if (recommendation.finding_id == finding.id) Recommendation(recommendation);
      }
      out_ += "</div>\n";
    }
  }

  void Recommendation(const hub::AuditRecommendation& recommendation) {
    const bool overdue = recommendation.OverdueAt(in_.generated_at);
    out_ += fmt::format("<h3>{} {}</h3>\n<table class=\"meta\">\n", Esc(recommendation.reference),
                        w_.recommendation);
    Row(w_.recommendation, "<pre>" + Esc(recommendation.text) + "</pre>");
    Row(w_.due, Esc(Day(recommendation.due_at)) +
                    (overdue ? fmt::format(" <span class=\"bad\">{}</span>", w_.overdue) : ""));
    Row(w_.rec_status, Value(recommendation.status));
    if (!recommendation.follow_ups.empty()) {
      std::string steps;
      for (const auto& step : recommendation.follow_ups) {
        auto org = in_.org_names.find(step.actor_org_id);
        steps += fmt::format("<div>{} {} → {}{}{}</div>", Esc(Time(step.at)),
                             Value(step.status_from), Value(step.status_to),
                             org == in_.org_names.end() ? "" : " (" + Esc(org->second) + ")",
                             step.note.empty() ? "" : ": " + Esc(step.note));
      }
      Row(w_.follow_up, steps);
    }
    if (!recommendation.attachments.empty()) {
      std::string files;
      for (const auto& file : recommendation.attachments) {
        auto org = in_.org_names.find(file.uploaded_by_org_id);
        files += fmt::format(
            "<div>{} ({} bytes, {}{}) <span class=\"hash\">SHA-256 {}</span></div>",
            Esc(file.filename), file.size, Esc(Time(file.uploaded_at)),
            org == in_.org_names.end() ? "" : ", " + Esc(org->second), Esc(file.sha256));
      }
      Row(w_.files, files);
    }
    out_ += "</table>\n";
  }

  void Controls() {
    out_ +=
        fmt::format("<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
                    w_.controls, w_.control, w_.result, w_.methods, w_.note);
    std::string group;
    for (const auto& scoped : in_.record.controls) {
      if (scoped.control.group_title != group) {
        group = scoped.control.group_title;
        out_ += fmt::format("<tr><th colspan=\"4\">{}</th></tr>\n", Esc(group));
      }
      std::string methods;
      for (const auto& method : scoped.methods) {
        methods += (methods.empty() ? "" : ", ") + Value(method);
      }
      const bool failed =
          scoped.result == "not_satisfied" || scoped.result == "partially_satisfied";
      out_ += fmt::format(
          "<tr><td>{} {}</td><td class=\"{}\">{}</td><td>{}</td><td><pre>{}</pre></td></tr>\n",
          ControlName(scoped.control), Esc(scoped.control.title),
          failed ? "bad" : (scoped.result == "satisfied" ? "ok" : ""), Value(scoped.result),
          methods, Esc(scoped.note));
    }
    out_ += "</table>\n";
  }

  void Team() {
    out_ += fmt::format("<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th></tr>\n", w_.team, w_.name,
                        w_.role);
    for (const auto& member : audit_.members) {
      out_ += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", Esc(Name(member.user_id)),
                          Value(hub::ToString(member.role)));
    }
    out_ += "</table>\n";
  }

  const AuditReportInput& in_;
  const hub::Audit& audit_;
  AuditReportLanguage language_;
  const Words& w_;
  std::string out_;
};

}  // namespace

std::string RenderAuditReport(const AuditReportInput& input, AuditReportLanguage language) {
  return Page(input, language).Render();
}

}  // namespace yagura::http
