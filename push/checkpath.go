package push

// CheckPath reports whether p is a path receivers accept in a manifest
// (SPEC.md §6.4.2): relative, slash-separated, every element a plain
// name. Front ends that build a push from names they were given (herald
// ui's uploads) refuse a bad one before writing anything.
func CheckPath(p string) error { return checkPath(p) }
