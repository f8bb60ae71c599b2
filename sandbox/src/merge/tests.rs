//! Scenario tests of the merge module live here.
