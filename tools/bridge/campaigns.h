// The sales campaigns and the per-segment strategy of a LeanOS workspace, read as the ledger's
// commands (the conventions of tools/bridge/workspace.h: dated by the files, ids derived from
// path and content, problems by file and line).
//
//   threads/sales/campaigns/{YYYY-MM-DD-name}/     a campaign thread, the same six stages:
//     meta.json, 1-input.md (**Segment:**, **Objective:**, **Target list size:**, **Goal:**),
//     2-hypothesis.md (### A4, **Confidence:**), 3-implication.md (**Expected responses:**,
//     **Expected meetings:**, **Expected deals:**, **Resource cost:**), 4-decision.md
//     (LAUNCH | DEFER | CANCEL, **Reasoning:**, **Alternatives:**), 5-actions.md (## Outreach
//     sequence: `- Day 1: email: intro`), 6-learning.md (### A4, **Status:**, **Confidence:**,
//     **Summary:**; also 6-results.md + 7-learning.md), and stage 5 row by row in CSV files
//     with a `date` column: prospects.csv (company, website, linkedin), contacts.csv (name,
//     title, email, company), outreach.csv (email, step), responses.csv (email, kind, deal).
//   research/customer/icp/{segment}-icp.yaml      the ICP, short form (segment, filters,
//     qualification_criteria, qualification_score, sample_companies; dated generated_date).
//     The full form (icp_definition: ...) is not the ledger's ICP: it stays a document.
//   artifacts/sales/{segment}/narrative/{problem,solution,specifics}-narrative.md   the sales
//     narrative: the three together, dated by the latest of their dates.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tools/bridge/workspace.h"

namespace leanos::bridge {

// One campaign folder as one unit (recorded fact by fact: a fact that cannot be read is skipped alone).
Unit read_campaign(const std::filesystem::path& root, const std::filesystem::path& folder, const std::string& actor, Micros fallback,
                   Workspace& ws);

// The ICP and narrative files, a unit per file (ICP) or per segment (narrative).
std::vector<Unit> read_segment_strategy(const std::filesystem::path& root, const std::string& actor, Micros fallback, Workspace& ws);

}  // namespace leanos::bridge
