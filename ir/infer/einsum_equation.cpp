#include "ir/infer/einsum_equation.h"

#include <algorithm>

#include "ir/error.h"

namespace kiln {

namespace {

int letter_id(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

// One term split into its letters and the position of "..." among them (-1 = none).
struct Term {
  std::vector<int> letters;
  int ellipsis_at = -1;
};

Term parse_term(const std::string& s, const std::string& eq, const std::string& where) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s.compare(i, 3, "...") != 0 || t.ellipsis_at >= 0) {
        fail(where, "equation '", eq, "': malformed or repeated ellipsis in term '", s, "'");
      }
      t.ellipsis_at = static_cast<int>(t.letters.size());
      i += 2;
      continue;
    }
    const int id = letter_id(s[i]);
    if (id < 0) fail(where, "equation '", eq, "': invalid label '", s[i], "' in term '", s, "'");
    t.letters.push_back(id);
  }
  return t;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

}  // namespace

EinsumEquation parse_einsum(const std::string& equation, const std::vector<int64_t>& ranks,
                            const std::string& where) {
  std::string eq;
  for (char c : equation) {
    if (c != ' ' && c != '\t' && c != '\n') eq += c;
  }
  if (eq.empty()) fail(where, "equation is empty");
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos && eq.find("->", arrow + 2) != std::string::npos) {
    fail(where, "equation '", equation, "' has more than one '->'");
  }
  const std::string lhs = eq.substr(0, arrow);
  const std::vector<std::string> in_terms = split(lhs, ',');
  if (in_terms.size() != ranks.size()) {
    fail(where, "equation '", equation, "' has ", in_terms.size(), " input terms but the node has ",
         ranks.size(), " inputs");
  }

  EinsumEquation out;
  std::vector<Term> terms;
  for (size_t k = 0; k < in_terms.size(); ++k) {
    terms.push_back(parse_term(in_terms[k], equation, where));
    const Term& t = terms.back();
    const int64_t n = static_cast<int64_t>(t.letters.size());
    if (t.ellipsis_at >= 0) {
      if (ranks[k] < 0) fail(where, "input ", k, " needs a known rank for its ellipsis");
      if (ranks[k] < n) {
        fail(where, "equation '", equation, "': term '", in_terms[k], "' needs rank >= ", n,
             " but input ", k, " has rank ", ranks[k]);
      }
      out.ellipsis_rank = std::max(out.ellipsis_rank, static_cast<int>(ranks[k] - n));
    } else if (ranks[k] >= 0 && ranks[k] != n) {
      fail(where, "equation '", equation, "': term '", in_terms[k], "' has ", n,
           " labels but input ", k, " has rank ", ranks[k]);
    }
  }

  // Expand each term, mapping its ellipsis axes onto the right-aligned broadcast ids.
  std::vector<int> count(EinsumEquation::kLetters, 0);
  for (size_t k = 0; k < terms.size(); ++k) {
    const Term& t = terms[k];
    std::vector<int> labels;
    for (size_t i = 0; i <= t.letters.size(); ++i) {
      if (static_cast<int>(i) == t.ellipsis_at) {
        const int e = static_cast<int>(ranks[k]) - static_cast<int>(t.letters.size());
        for (int j = 0; j < e; ++j) {
          labels.push_back(EinsumEquation::kLetters + out.ellipsis_rank - e + j);
        }
      }
      if (i < t.letters.size()) {
        labels.push_back(t.letters[i]);
        ++count[static_cast<size_t>(t.letters[i])];
      }
    }
    out.inputs.push_back(std::move(labels));
  }

  if (arrow == std::string::npos) {
    // Implicit output: broadcast axes, then labels used exactly once, in ASCII order.
    for (int j = 0; j < out.ellipsis_rank; ++j) out.output.push_back(EinsumEquation::kLetters + j);
    for (int id = 0; id < EinsumEquation::kLetters; ++id) {
      if (count[static_cast<size_t>(id)] == 1) out.output.push_back(id);
    }
    return out;
  }

  const std::string rhs = eq.substr(arrow + 2);
  if (rhs.find(',') != std::string::npos) {
    fail(where, "equation '", equation, "' has more than one output term");
  }
  const Term t = parse_term(rhs, equation, where);
  std::vector<bool> seen(EinsumEquation::kLetters, false);
  for (size_t i = 0; i <= t.letters.size(); ++i) {
    if (static_cast<int>(i) == t.ellipsis_at) {
      for (int j = 0; j < out.ellipsis_rank; ++j) {
        out.output.push_back(EinsumEquation::kLetters + j);
      }
    }
    if (i == t.letters.size()) break;
    const size_t id = static_cast<size_t>(t.letters[i]);
    const char c = static_cast<char>(id < 26 ? 'A' + id : 'a' + (id - 26));
    if (seen[id]) fail(where, "equation '", equation, "': output label '", c, "' repeats");
    if (count[id] == 0) {
      fail(where, "equation '", equation, "': output label '", c, "' is not in any input");
    }
    seen[id] = true;
    out.output.push_back(t.letters[i]);
  }
  // An explicit output without "..." sums the broadcast axes away, as numpy does.
  return out;
}

}  // namespace kiln
