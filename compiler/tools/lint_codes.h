/*
 * lint_codes.h - every lint finding dnac can report.  Codes are stable:
 * never renumber, only append.  docs/lint.md describes them and
 * `dnac explain CODE` prints the text below.  The default severity is
 * `error` for rules that can never fire (or never do what they say) and
 * `warning` for style; a `.dnalint` file can change either.
 *
 * LINT(code, default severity, title, explanation)
 */
LINT(L001, SEV_ERROR, "event never produced",
     "The rule runs on an event that no declared source produces (through `map EVENT` or `events a, b`) and no workflow emits, while the bundle declares at least one source: the rule can never fire.")
LINT(L002, SEV_ERROR, "condition always false",
     "After folding literals and consts, the `when` condition is false whatever the event or state: the rule, signal, route or workflow can never fire.")
LINT(L003, SEV_WARNING, "condition always true",
     "After folding literals and consts, the `when` condition is true whatever the event or state: it can be removed.")
LINT(L004, SEV_WARNING, "duplicate rule",
     "Two rules in one block run on the same event with the same condition and the same amount: every matching event counts twice.")
LINT(L005, SEV_ERROR, "shadowed arm",
     "A match arm (in an expression or a route) can never be reached: an earlier arm, or the earlier arms together, already take every value it could match, e.g. `>= 40` after `>= 20`, or any arm after `_`.")
LINT(L006, SEV_ERROR, "threshold out of reach",
     "A `crosses above T` trigger watches a score (or intent category) whose every rule is capped per entity (`limit N per lead`) and whose capped points add up to less than T: the trigger can never fire.")
LINT(L007, SEV_WARNING, "unused declaration",
     "A const, team, connector or sequence is declared but no rule, workflow, route or other declaration uses it (tests do not count).  Standard-library modules are not checked.")
LINT(L008, SEV_WARNING, "workflow re-triggers itself",
     "A workflow's actions can trigger the workflow again, directly or through other workflows: it sets a field its trigger watches, emits an event that triggers it, or is one link of such a cycle.  The engine cuts the chain at a fixed depth, but the actions run again every time.")
LINT(L009, SEV_WARNING, "uncapped score on a frequent event",
     "A score rule on a high-frequency event (page_visit, email_open, email_click) has no `limit`: a single busy visitor inflates the score without bound.")
LINT(L010, SEV_WARNING, "match not exhaustive",
     "A match on an enum (or on intent.primary) lists some of its values and has no `_` arm (for a route, no `else` either): the missing values fall through.")
LINT(L011, SEV_ERROR, "team cannot take the lead",
     "An assignment can never pick a member: the strategy routes by region but no member of the team has a region, or it needs skills that no single member has.  Every lead falls through to the fallback.")
