"""Background work: an in-process thread pool by default; RQ workers on Redis at scale."""
