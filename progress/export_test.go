package progress

// SetGetenv sets how d reads $COLUMNS.
func SetGetenv(d *Display, getenv func(string) string) { d.getenv = getenv }
