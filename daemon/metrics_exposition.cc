// Metrics::StartExposition: the text exposition format written piece by piece from the
// compact store (daemon/metrics_store.h). The text is the one a single pass would write:
// families in a fixed order, each with its HELP and TYPE lines before its first sample,
// databases in name order within each family. The cursor remembers the family it is in and
// the last database written, and takes the store's lock for one piece at a time.
#include <functional>

#include "daemon/metrics.h"
#include "daemon/metrics_store.h"
#include "daemon/metrics_text.h"
#include "daemon/process_metrics.h"
#include "lib/sqlite/connection.h"
#include "maintd_version.h"

namespace maintd {

using namespace metrics_store;
using metrics_text::AppendHeader;
using metrics_text::AppendLabelValue;
using metrics_text::AppendNumber;
using metrics_text::AppendPlain;

namespace {

constexpr const char* kDuration = "sqlite_maintd_job_duration_seconds";

// The families in exposition order.
enum Section : size_t {
  kTaskSections = 0,  // the four of kTaskFamilies
  kSkips = 4,
  kDurations = 5,
  kDbSections = 6,  // the kDbSeriesCount of kDbFamilies
  kHealth = kDbSections + kDbSeriesCount,
  kTail,  // databases, ready, build_info, process_*
  kDone
};

struct TaskFamily {
  const char* name;
  const char* type;
  const char* help;
  double (*value)(const TaskSeries&);  // NaN: no sample
};
constexpr TaskFamily kTaskFamilies[] = {
    {"sqlite_maintd_job_runs_total", "counter", "Job runs (skipped runs included)",
     [](const TaskSeries& t) { return t.runs; }},
    {"sqlite_maintd_job_failures_total", "counter", "Job runs that failed (critical)",
     [](const TaskSeries& t) { return t.failures; }},
    {"sqlite_maintd_job_last_success_timestamp_seconds", "gauge",
     "Unix time in seconds of the last successful run of a job",
     [](const TaskSeries& t) { return t.last_success; }},
    {"sqlite_maintd_task_running", "gauge", "1 while the job runs on the database, else 0",
     [](const TaskSeries& t) { return t.running ? 1.0 : 0.0; }},
};
static_assert(std::size(kTaskFamilies) == kSkips - kTaskSections);

// db="..",task=".." (or task=".." alone when db is null), the labels inside the braces.
void AppendTaskLabels(std::string& out, const std::string* db, const std::string& task) {
  if (db != nullptr) {
    out += "db=";
    AppendLabelValue(out, *db);
    out += ',';
  }
  out += "task=";
  AppendLabelValue(out, task);
}

// name{db="..",task=".."<extra>} value
void AppendTaskSample(std::string& out, const char* name, const std::string& db,
                      const std::string& task, double value) {
  out += name;
  out += '{';
  AppendTaskLabels(out, &db, task);
  out += "} ";
  AppendNumber(out, value);
  out += '\n';
}

// The samples of one histogram: cumulative buckets, +Inf, sum and count.
template <typename Count>
void AppendHistogram(std::string& out, const std::string* db, const std::string& task,
                     const Histogram<Count>& h) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBuckets.size(); ++i) {
    cumulative += h.in_bucket[i];
    out += kDuration;
    out += "_bucket{";
    AppendTaskLabels(out, db, task);
    out += ",le=\"";
    if (i < kBuckets.size())
      AppendNumber(out, kBuckets[i]);
    else
      out += "+Inf";
    out += "\"} ";
    AppendNumber(out, static_cast<double>(cumulative));
    out += '\n';
  }
  for (const char* part : {"_sum{", "_count{"}) {
    out += kDuration;
    out += part;
    AppendTaskLabels(out, db, task);
    out += "} ";
    AppendNumber(out, part[1] == 's' ? h.sum : static_cast<double>(cumulative));
    out += '\n';
  }
}

// "3.40.1" from SQLite's version number 3040001.
std::string SqliteVersionText() {
  int n = SqliteVersionNumber();
  return std::to_string(n / 1000000) + "." + std::to_string(n / 1000 % 1000) + "." +
         std::to_string(n % 1000);
}

class Cursor : public Metrics::ExpositionCursor {
 public:
  explicit Cursor(std::shared_ptr<const Store> store) : store_(std::move(store)) {
    std::lock_guard lock(store_->mu);
    detail_ = store_->detail;
  }

  bool Next(std::string& out, size_t bytes) override {
    size_t start = out.size();
    auto full = [&] { return out.size() - start >= bytes; };
    {
      std::lock_guard lock(store_->mu);
      while (section_ < kTail && !full()) {
        if (RenderSection(out, full)) NextSection();
      }
      if (section_ == kTail && !full()) {
        RenderTailUnderLock(out);
        NextSection();
      }
    }
    if (section_ == kDone && !process_done_) {
      AppendProcessMetrics(out);  // reads /proc: outside the lock
      process_done_ = true;
    }
    return !process_done_;
  }

 private:
  void NextSection() {
    section_ = static_cast<Section>(section_ + 1);
    after_.reset();
    header_ = false;
  }

  void Header(std::string& out, const char* name, const char* type, const char* help) {
    if (!header_) AppendHeader(out, name, type, help);
    header_ = true;
  }

  // Writes the current section on from the database after `after_`, one database at a time,
  // until `full`. True when the section is finished.
  bool RenderSection(std::string& out, const std::function<bool()>& full) {
    if (section_ == kDurations && detail_ == MetricsDetail::kSummary) {
      for (const auto& [task, h] : store_->by_task) {
        Header(out, kDuration, "histogram",
               "Duration of job runs in seconds, over all databases (http.metrics: summary)");
        AppendHistogram(out, nullptr, task, h);
      }
      return true;
    }
    const auto& dbs = store_->dbs;
    for (auto it = after_ ? dbs.upper_bound(*after_) : dbs.begin(); it != dbs.end(); ++it) {
      if (full()) return false;
      RenderDb(out, it->first, it->second);
      after_ = it->first;
    }
    return true;
  }

  // The lines of the current section for one database.
  void RenderDb(std::string& out, const std::string& db, const DbMetrics& m) {
    const Names& names = store_->names;
    if (section_ < kSkips) {
      const TaskFamily& f = kTaskFamilies[section_];
      for (const TaskSeries& t : m.tasks) {
        double v = f.value(t);
        if (std::isnan(v)) continue;
        Header(out, f.name, f.type, f.help);
        AppendTaskSample(out, f.name, db, names[t.task], v);
      }
    } else if (section_ == kSkips) {
      for (const SkipCount& c : m.skips) {
        Header(out, "sqlite_maintd_job_skips_total", "counter",
               "Job runs skipped, by reason (busy, corrupt, refused, or the job's own: "
               "nothing to do)");
        out += "sqlite_maintd_job_skips_total{";
        AppendTaskLabels(out, &db, names[c.task]);
        out += ",reason=";
        AppendLabelValue(out, names[c.reason]);
        out += "} ";
        AppendNumber(out, c.count);
        out += '\n';
      }
    } else if (section_ == kDurations) {
      static const DbHistogram kEmpty;
      for (const TaskSeries& t : m.tasks) {
        Header(out, kDuration, "histogram", "Duration of job runs in seconds");
        AppendHistogram(out, &db, names[t.task], t.duration ? *t.duration : kEmpty);
      }
    } else if (section_ < kHealth) {
      size_t s = section_ - kDbSections;
      if (!m.Has(s)) return;
      const DbFamily& f = kDbFamilies[s];
      Header(out, f.name, f.type, f.help);
      out += f.name;
      out += "{db=";
      AppendLabelValue(out, db);
      out += "} ";
      AppendNumber(out, m.values[s]);
      out += '\n';
    } else {
      for (const CheckStatus& c : m.health) {
        Header(out, "sqlite_maintd_health_status", "gauge",
               "Last status of a check: 0 healthy, 1 warning, 2 critical");
        out += "sqlite_maintd_health_status{check=";
        AppendLabelValue(out, names[c.check]);
        out += ",db=";
        AppendLabelValue(out, db);
        out += "} ";
        AppendNumber(out, c.status);
        out += '\n';
      }
    }
  }

  void RenderTailUnderLock(std::string& out) {
    auto plain = [&](const char* name, const char* help, const std::optional<double>& v) {
      if (!v) return;
      AppendHeader(out, name, "gauge", help);
      AppendPlain(out, name, *v);
    };
    plain("sqlite_maintd_databases", "Databases maintained", store_->databases);
    plain("sqlite_maintd_ready", "1 when /readyz answers 200", store_->ready);
    AppendHeader(out, "sqlite_maintd_build_info", "gauge",
                 "Always 1; the labels name the daemon's version and the SQLite library it runs");
    out += "sqlite_maintd_build_info{sqlite_version=";
    AppendLabelValue(out, SqliteVersionText());
    out += ",version=";
    AppendLabelValue(out, MAINTD_VERSION);
    out += "} 1\n";
  }

  std::shared_ptr<const Store> store_;
  MetricsDetail detail_;  // as the scrape started: one duration family per scrape
  Section section_ = kTaskSections;
  std::optional<std::string> after_;  // the last database written in this section
  bool header_ = false;               // this section's HELP/TYPE written
  bool process_done_ = false;
};

}  // namespace

std::unique_ptr<Metrics::ExpositionCursor> Metrics::StartExposition() const {
  return std::make_unique<Cursor>(store_);
}

}  // namespace maintd
