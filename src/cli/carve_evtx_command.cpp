// `yagura carve-evtx`: Windows event records recovered from a disk image, unallocated space, a
// memory dump or a damaged log, as EVTX files the other commands then read
// (event/evtx_carver.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "event/evtx_carver.hpp"

namespace yagura::cli {

CarveEvtxCommand::CarveEvtxCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "carve-evtx",
      "Recover Windows event log chunks from any file (a disk image, unallocated space, a memory "
      "dump, a damaged or cleared .evtx) and write them as EVTX files to scan, search and stats");
  command_
      ->add_option("inputs", inputs_,
                   "Files to carve (read whole, any size), or folders of them (recursively)")
      ->required();
  command_
      ->add_option("--output,-o", output_,
                   "Folder for the recovered logs, a file for each (carved-Security-0001.evtx...; "
                   "made if missing)")
      ->required();
  command_->add_flag("--json", json_, "Print the outcome as JSON");
}

int CarveEvtxCommand::Run() {
  namespace fs = std::filesystem;
  // Folders are walked for their files, in name order, before the output folder is made: what
  // is written there is never read back.
  std::vector<std::string> files;
  bool partial = false;
  for (const std::string& input : inputs_) {
    std::error_code error;
    if (!fs::is_directory(input, error)) {
      files.push_back(input);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(
             input, fs::directory_options::skip_permission_denied, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      std::error_code entry_error;
      if (it->is_regular_file(entry_error)) found.push_back(it->path().string());
    }
    if (error) {
      std::fprintf(stderr, "yagura carve-evtx: %s: %s\n", input.c_str(), error.message().c_str());
      partial = true;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  auto carver = event::EvtxCarver::Create(output_);
  if (!carver) {
    std::fprintf(stderr, "yagura carve-evtx: %s\n", carver.error().ToString().c_str());
    return EXIT_USAGE;
  }
  for (const std::string& input : files) {
    if (auto carved = (*carver)->Carve(input); !carved) {
      std::fprintf(stderr, "yagura carve-evtx: %s\n", carved.error().ToString().c_str());
      partial = true;
    }
  }
  if (auto finished = (*carver)->Finish(); !finished) {
    std::fprintf(stderr, "yagura carve-evtx: %s\n", finished.error().ToString().c_str());
    partial = true;
  }
  const event::CarveStats& stats = (*carver)->stats();
  if (json_) {
    std::string out;
    JsonWriter json(out);
    json.BeginObject();
    json.Key("inputs").Uint(stats.inputs);
    json.Key("bytes_scanned").Uint(stats.bytes_scanned);
    json.Key("signatures").Uint(stats.signatures);
    json.Key("chunks").Uint(stats.chunks);
    json.Key("duplicates").Uint(stats.duplicates);
    json.Key("damaged").Uint(stats.damaged);
    json.Key("truncated").Uint(stats.truncated);
    json.Key("records").Uint(stats.records);
    json.Key("salvaged_chunks").Uint(stats.salvaged_chunks);
    json.Key("salvaged_records").Uint(stats.salvaged_records);
    json.Key("files").BeginArray();
    for (const std::string& file : (*carver)->files()) json.String(file);
    json.EndArray();
    json.EndObject();
    std::printf("%s\n", out.c_str());
  } else {
    std::printf(
        "%llu chunks (%llu records) recovered from %llu bytes: %llu signatures, %llu copies of "
        "chunks already recovered, %llu damaged chunks with %llu sound records salvaged (in "
        "salvaged-*.evtx), %llu damaged past salvage, %llu cut off by the end of the input\n",
        static_cast<unsigned long long>(stats.chunks),
        static_cast<unsigned long long>(stats.records),
        static_cast<unsigned long long>(stats.bytes_scanned),
        static_cast<unsigned long long>(stats.signatures),
        static_cast<unsigned long long>(stats.duplicates),
        static_cast<unsigned long long>(stats.salvaged_chunks),
        static_cast<unsigned long long>(stats.salvaged_records),
        static_cast<unsigned long long>(stats.damaged),
        static_cast<unsigned long long>(stats.truncated));
    for (const std::string& file : (*carver)->files()) std::printf("  %s\n", file.c_str());
  }
  return partial ? EXIT_PARTIAL : EXIT_OK;
}

}  // namespace yagura::cli
