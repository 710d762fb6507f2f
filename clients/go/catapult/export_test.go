package catapult

// SetListPageSize lets the tests read lists in small pages, so that "all pages" is tested
// without creating a thousand records. It returns a function restoring the old size.
func SetListPageSize(n int32) (restore func()) {
	old := listPageSize
	listPageSize = n
	return func() { listPageSize = old }
}
