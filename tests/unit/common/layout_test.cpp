// common/layout.h: the per-process member paths as docs/bundle-format.md names them, and under()
// as a directory test, not a prefix test.
#include <string>

#include <gtest/gtest.h>

#include "common/layout.h"

namespace forage {
namespace {

TEST(Layout, PathsPerProcess) {
  EXPECT_EQ(layout::core_path(4242), "data/memory/4242/core");
  EXPECT_EQ(layout::core_info_path(4242), "data/memory/4242/core.json");
  EXPECT_EQ(layout::process_state_path(7), "data/volatile/7/state.json");
  EXPECT_EQ(layout::exe_dir(7), "data/exe/7");
  EXPECT_EQ(layout::grid_dir(7), "data/grid/7");
  EXPECT_EQ(layout::grid_context_path(7), "data/grid/7/grid.json");
  EXPECT_EQ(layout::listing_path("tmp"), "data/host/listings/tmp.jsonl");
  EXPECT_EQ(layout::join(layout::kLogsDir, "wtmp.json"), "data/logs/wtmp.json");
}

TEST(Layout, UnderIsADirectoryTest) {
  EXPECT_TRUE(layout::under("data/scans/sweep.jsonl", layout::kScansDir));
  EXPECT_TRUE(layout::under(layout::kIncident, layout::kMetaDir));
  EXPECT_TRUE(layout::under(layout::kListingsDir, layout::kHostDir));
  EXPECT_FALSE(layout::under("data/scans", layout::kScansDir));
  EXPECT_FALSE(layout::under("data/scansX/a", layout::kScansDir));
  EXPECT_FALSE(layout::under("meta.json", layout::kMetaDir));
  EXPECT_TRUE(layout::is_payload("data/"));
  EXPECT_TRUE(layout::is_payload(layout::kOverBudget));
  EXPECT_FALSE(layout::is_payload("data"));
  EXPECT_FALSE(layout::is_payload(layout::kActions));
  static_assert(layout::under("meta/actions.head", "meta"));
}

}  // namespace
}  // namespace forage
