// The investigation report (see case_report.hpp).
#include "http/case_report.hpp"

#include <fmt/format.h>

#include <map>
#include <string_view>

#include "core/html.hpp"
#include "core/time.hpp"
#include "http/report_page.hpp"

namespace yagura::http {
namespace {

// The report's own words. The case's and logs' words are as they were written.
struct Words {
  std::string_view lang;
  std::string_view title;
  std::string_view generated;  // {time} by {name}
  std::string_view case_section, status, opened, closed, conclusion, marking, summary;
  std::string_view members, name, role, added;
  std::string_view links, link_type, link_title, link_time, link_status, hidden_links;
  std::string_view evidence, no_evidence, kind, hashes, size, acquired, acquired_by, method, source,
      holder, location, seal, item_status, stored_file, integrity, intact, broken, chain_ok,
      chain_bad, registration_ok, registration_bad, file_ok, file_bad, no_file;
  std::string_view custody, seq, at, action, from_to, purpose, recorded, hash;
  std::string_view timeline, timeline_more, kind_col, host, entry, techniques, origin;
  std::string_view history, actor, change;
  std::string_view none;
};

constexpr Words ENGLISH = {
    "en",
    "Investigation report",
    "Written {} by {}. Integrity checks were made when the report was written.",
    "The case",
    "Status",
    "Opened",
    "Closed",
    "Conclusion",
    "Marking",
    "Summary",
    "Members",
    "Name",
    "Role in the case",
    "Since",
    "Incidents and alerts looked into",
    "Type",
    "Title",
    "When",
    "Status",
    "{} more links to incidents or alerts the reader of this report may not read",
    "Evidence",
    "No evidence was registered.",
    "Kind",
    "Hashes",
    "Size",
    "Acquired",
    "Acquired by",
    "Method",
    "Source",
    "Held by",
    "Location",
    "Seal",
    "Status",
    "Stored file",
    "Integrity",
    "intact",
    "NOT INTACT",
    "The chain of custody is unbroken ({} events).",
    "The chain of custody is broken at event {}: {}.",
    "The item's hashes and registration are those its custody recorded.",
    "The registration was changed: {}.",
    "The stored file's SHA-256 is the item's.",
    "The stored file's SHA-256 is {}, not the item's.",
    "No file is stored with the item.",
    "Chain of custody",
    "#",
    "When",
    "Action",
    "From → to",
    "Purpose",
    "Recorded by",
    "Hash",
    "Timeline",
    "The timeline holds {} entries; the first {} are listed (the export has them all).",
    "Kind",
    "Host",
    "Entry",
    "Techniques",
    "From",
    "History of the case",
    "By",
    "What",
    "—",
};

constexpr Words JAPANESE = {
    "ja",
    "調査報告書",
    "{} に {} が作成。完全性の検証は作成時に実施。",
    "調査案件",
    "状態",
    "開始",
    "終結",
    "結論",
    "取扱区分",
    "概要",
    "メンバー",
    "氏名",
    "案件での役割",
    "参加",
    "調査対象のインシデントとアラート",
    "種別",
    "件名",
    "日時",
    "状態",
    "本報告書の閲覧者が閲覧できないインシデント・アラートへのリンクがほかに {} 件あります",
    "証拠",
    "登録された証拠はありません。",
    "種別",
    "ハッシュ値",
    "サイズ",
    "取得",
    "取得者",
    "取得方法",
    "取得元",
    "保管者",
    "保管場所",
    "封印番号",
    "状態",
    "保存ファイル",
    "完全性",
    "問題なし",
    "改ざんの疑い",
    "保管の連鎖は途切れていません（{} 件）。",
    "保管の連鎖が {} 件目で途切れています: {}。",
    "証拠のハッシュ値と登録内容は保管記録と一致しています。",
    "登録内容が変更されています: {}。",
    "保存ファイルの SHA-256 は証拠のものと一致しています。",
    "保存ファイルの SHA-256 は {} で、証拠のものと一致しません。",
    "証拠のファイルは保存されていません。",
    "保管の連鎖（Chain of Custody）",
    "#",
    "日時",
    "操作",
    "引渡元 → 引渡先",
    "目的",
    "記録者",
    "ハッシュ",
    "タイムライン",
    "タイムラインには {} 件あり、最初の {} "
    "件を掲載しています（全件はエクスポートで取得できます）。",
    "種別",
    "ホスト",
    "内容",
    "テクニック",
    "出所",
    "案件の履歴",
    "実施者",
    "内容",
    "—",
};

// The words of the values the API spells in English.
std::string_view ValueName(std::string_view value, CaseReportLanguage language) {
  if (language == CaseReportLanguage::kEnglish) {
    return value;
  }
  static const std::map<std::string_view, std::string_view> JA = {
      {"open", "調査中"},
      {"on_hold", "保留"},
      {"closed", "終結"},
      {"lead", "主任"},
      {"member", "担当"},
      {"reader", "閲覧"},
      {"incident", "インシデント"},
      {"alert", "アラート"},
      {"event", "イベント"},
      {"evidence", "証拠"},
      {"action", "対応"},
      {"finding", "判明事項"},
      {"note", "メモ"},
      {"written", "記入"},
      {"imported", "取込"},
      {"linked", "リンク"},
      {"in_custody", "保管中"},
      {"checked_out", "持出中"},
      {"released", "返還済"},
      {"destroyed", "廃棄済"},
      {"acquired", "取得"},
      {"transferred", "引渡"},
      {"checked_in", "返却"},
      {"examined", "解析"},
      {"verified", "ハッシュ検証"},
      {"copied", "複製"},
      {"sealed", "封印"},
      {"unsealed", "開封"},
      {"content_added", "ファイル保存"},
      {"accessed", "ファイル閲覧"},
      {"disk_image", "ディスクイメージ"},
      {"memory_image", "メモリイメージ"},
      {"log_collection", "ログ一式"},
      {"network_capture", "通信記録"},
      {"mobile_device", "モバイル端末"},
      {"document", "文書"},
      {"malware_sample", "マルウェア検体"},
      {"physical_device", "物理媒体・機器"},
      {"other", "その他"},
      {"match", "一致"},
      {"mismatch", "不一致"},
      {"established", "初回記録"},
  };
  auto found = JA.find(value);
  return found == JA.end() ? value : found->second;
}

std::string Esc(std::string_view text) { return HtmlEscaped(text); }

std::string Time(int64_t ms) { return FormatTimestampMs(ms); }

class Page {
 public:
  Page(const CaseReportInput& input, CaseReportLanguage language)
      : in_(input),
        language_(language),
        w_(language == CaseReportLanguage::kJapanese ? JAPANESE : ENGLISH) {}

  std::string Render() {
    const hub::Case& kase = in_.kase;
    out_ += fmt::format(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>{} {} — {}</title>\n<style>{}</style></head><body>\n",
        w_.lang, Esc(kase.reference), Esc(kase.title), w_.title, REPORT_STYLE);
    out_ += TlpBanner(kase.tlp);
    out_ += fmt::format("<h1>{}: {} {}</h1>\n", w_.title, Esc(kase.reference), Esc(kase.title));
    out_ += fmt::format(
        "<p class=\"note\">{}</p>\n",
        Esc(fmt::format(fmt::runtime(w_.generated), Time(in_.generated_at), in_.generated_by)));
    CaseSection();
    Members();
    Links();
    Evidence();
    Timeline();
    History();
    out_ += TlpBanner(kase.tlp);
    out_ += "</body></html>\n";
    return std::move(out_);
  }

 private:
  std::string Name(const std::string& user_id) const {
    auto found = in_.user_names.find(user_id);
    return found == in_.user_names.end() ? user_id : found->second;
  }
  std::string Value(std::string_view value) const { return Esc(ValueName(value, language_)); }
  void Row(std::string_view name, const std::string& html) {
    out_ += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", name, html);
  }

  void CaseSection() {
    const hub::Case& kase = in_.kase;
    out_ += fmt::format("<h2>{}</h2>\n<table class=\"meta\">\n", w_.case_section);
    Row(w_.status, Value(hub::ToString(kase.status)));
    Row(w_.marking, Esc(hub::TlpLabel(kase.tlp)));
    Row(w_.opened, Esc(fmt::format("{} — {}", Time(kase.created_at), Name(kase.opened_by))));
    if (kase.closed_at) Row(w_.closed, Esc(Time(*kase.closed_at)));
    if (kase.conclusion) Row(w_.conclusion, "<pre>" + Esc(*kase.conclusion) + "</pre>");
    Row(w_.summary, "<pre>" + Esc(kase.summary.empty() ? w_.none : kase.summary) + "</pre>");
    out_ += "</table>\n";
  }

  void Members() {
    out_ += fmt::format("<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>\n",
                        w_.members, w_.name, w_.role, w_.added);
    for (const auto& member : in_.kase.members) {
      out_ += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", Esc(Name(member.user_id)),
                          Value(hub::ToString(member.role)), Esc(Time(member.added_at)));
    }
    out_ += "</table>\n";
  }

  void Links() {
    out_ += fmt::format("<h2>{}</h2>\n", w_.links);
    if (!in_.links.readable.empty()) {
      out_ +=
          fmt::format("<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
                      w_.link_type, w_.link_title, w_.link_time, w_.link_status, w_.techniques);
      for (const auto& object : in_.links.readable) {
        std::string techniques;
        for (const auto& id : object.techniques)
          techniques += (techniques.empty() ? "" : ", ") + id;
        out_ += fmt::format(
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            Value(object.link.type), object.reference.empty() ? "" : Esc(object.reference) + " ",
            Esc(object.title), Esc(Time(object.at)), Value(object.status), Esc(techniques));
      }
      out_ += "</table>\n";
    } else if (in_.links.hidden == 0) {
      out_ += fmt::format("<p>{}</p>\n", w_.none);
    }
    if (in_.links.hidden > 0) {
      out_ += fmt::format("<p class=\"note\">{}</p>\n",
                          Esc(fmt::format(fmt::runtime(w_.hidden_links), in_.links.hidden)));
    }
  }

  void Evidence() {
    out_ += fmt::format("<h2>{}</h2>\n", w_.evidence);
    if (in_.evidence.empty()) out_ += fmt::format("<p>{}</p>\n", w_.no_evidence);
    for (const auto& entry : in_.evidence) Item(entry);
  }

  void Item(const CaseReportItem& entry) {
    const hub::EvidenceItem& item = entry.item;
    const hub::EvidenceRegistration& r = item.registration;
    const hub::EvidenceIntegrity& check = entry.integrity;
    const bool intact =
        check.chain_intact && check.registration_intact && check.content_matches.value_or(true);
    out_ += "<div class=\"item\">\n";
    out_ += fmt::format("<h3>{} {} <span class=\"{}\">[{}: {}]</span></h3>\n", Esc(item.reference),
                        Esc(r.label), intact ? "ok" : "bad", w_.integrity,
                        intact ? w_.intact : w_.broken);
    out_ += "<table class=\"meta\">\n";
    Row(w_.kind, Value(r.kind));
    if (!r.description.empty()) Row(w_.summary, "<pre>" + Esc(r.description) + "</pre>");
    std::string hashes;
    auto hash = [&](std::string_view name, const std::optional<std::string>& value) {
      if (!value) return;
      hashes += fmt::format("{}{}: {}", hashes.empty() ? "" : "<br>", name, Esc(*value));
    };
    hash("SHA-256", r.sha256);
    hash("SHA-1", r.sha1);
    hash("MD5", r.md5);
    Row(w_.hashes,
        "<span class=\"hash\">" + (hashes.empty() ? std::string(w_.none) : hashes) + "</span>");
    if (r.size) Row(w_.size, Esc(fmt::format("{} bytes", *r.size)));
    Row(w_.acquired, Esc(Time(r.acquired_at)));
    Row(w_.acquired_by, Esc(r.acquired_by));
    if (r.acquisition_method) Row(w_.method, Esc(*r.acquisition_method));
    if (r.source_host || r.source_org_id) {
      Row(w_.source, Esc(r.source_host.value_or("")) +
                         (r.source_org_id ? " (" + Esc(*r.source_org_id) + ")" : ""));
    }
    Row(w_.item_status, Value(item.status));
    Row(w_.holder, Esc(item.holder));
    if (item.location) Row(w_.location, Esc(*item.location));
    if (r.seal) Row(w_.seal, Esc(*r.seal));
    if (item.filename) Row(w_.stored_file, Esc(*item.filename));
    std::string checks;
    auto line = [&](bool good, const std::string& text) {
      checks += fmt::format("<div class=\"{}\">{}</div>", good ? "ok" : "bad", Esc(text));
    };
    if (check.chain_intact) {
      line(true, fmt::format(fmt::runtime(w_.chain_ok), check.events));
    } else {
      line(false, fmt::format(fmt::runtime(w_.chain_bad), check.first_bad_seq, check.problem));
    }
    if (check.registration_intact) {
      line(true, std::string(w_.registration_ok));
    } else {
      line(false, fmt::format(fmt::runtime(w_.registration_bad), check.registration_problem));
    }
    if (!check.content_stored) {
      checks += fmt::format("<div>{}</div>", w_.no_file);
    } else if (check.content_matches.value_or(false)) {
      line(true, std::string(w_.file_ok));
    } else {
      line(false, fmt::format(fmt::runtime(w_.file_bad), check.content_sha256));
    }
    Row(w_.integrity, checks);
    out_ += "</table>\n";

    out_ += fmt::format(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
        "<th>{}</th></tr>\n",
        w_.seq, w_.at, w_.action, w_.from_to, w_.purpose, w_.recorded, w_.hash);
    for (const auto& event : entry.custody) {
      std::string action = Value(event.action);
      if (!event.outcome.empty()) action += " (" + Value(event.outcome) + ")";
      std::string purpose = Esc(event.purpose);
      if (event.seal) {
        purpose += std::string(purpose.empty() ? "" : "<br>") + std::string(w_.seal) + ": " +
                   Esc(*event.seal);
      }
      if (event.sha256_observed) {
        purpose += std::string(purpose.empty() ? "" : "<br>") + "<span class=\"hash\">SHA-256 " +
                   Esc(*event.sha256_observed) + "</span>";
      }
      std::string moved = event.holder_from == event.holder_to
                              ? Esc(event.holder_to)
                              : Esc(event.holder_from) + " → " + Esc(event.holder_to);
      if (event.location) moved += "<br>" + Esc(*event.location);
      out_ += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}<br>{}</td>"
          "<td class=\"hash\">{}</td></tr>\n",
          event.seq, Esc(Time(event.at)), action, moved, purpose, Esc(Name(event.recorded_by)),
          Esc(Time(event.recorded_at)), Esc(event.hash.substr(0, 16)));
    }
    out_ += "</table>\n</div>\n";
  }

  void Timeline() {
    out_ += fmt::format("<h2>{}</h2>\n", w_.timeline);
    if (in_.timeline.empty()) {
      out_ += fmt::format("<p>{}</p>\n", w_.none);
      return;
    }
    if (in_.timeline_total > static_cast<int64_t>(in_.timeline.size())) {
      out_ += fmt::format("<p class=\"note\">{}</p>\n",
                          Esc(fmt::format(fmt::runtime(w_.timeline_more), in_.timeline_total,
                                          in_.timeline.size())));
    }
    out_ += fmt::format(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        w_.at, w_.kind_col, w_.host, w_.entry, w_.techniques, w_.origin);
    for (const auto& entry : in_.timeline) {
      std::string techniques;
      for (const auto& id : entry.techniques) techniques += (techniques.empty() ? "" : ", ") + id;
      std::string text = "<b>" + Esc(entry.title) + "</b>";
      if (!entry.detail.empty()) text += "<br>" + Esc(entry.detail);
      if (!entry.source.empty())
        text += "<br><span class=\"note\">" + Esc(entry.source) + "</span>";
      out_ += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          Esc(Time(entry.at)), Value(entry.kind), Esc(entry.host), text, Esc(techniques),
          Value(entry.origin));
    }
    out_ += "</table>\n";
  }

  void History() {
    out_ += fmt::format("<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>\n",
                        w_.history, w_.at, w_.actor, w_.change);
    for (const auto& entry : in_.history) {
      out_ += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{} <span class=\"mono note\">{}</span></td></tr>\n",
          Esc(Time(entry.at)), Esc(Name(entry.actor_id)), Esc(entry.kind), Esc(entry.detail));
    }
    out_ += "</table>\n";
  }

  const CaseReportInput& in_;
  CaseReportLanguage language_;
  const Words& w_;
  std::string out_;
};

}  // namespace

std::string RenderCaseReport(const CaseReportInput& input, CaseReportLanguage language) {
  return Page(input, language).Render();
}

}  // namespace yagura::http
