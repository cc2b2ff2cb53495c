package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// controlDir holds the warehouse's own files: the account locks, the
// markers of runs that have begun and not ended, and the journals of
// commits that have not finished. Its name starts with a dot, so globs of
// the data never see it.
const controlDir = ".ledgerline"

// Subdirectories of controlDir.
const (
	lockSub    = "lock"
	runsSub    = "runs"
	journalSub = "journal"
)

func (w *Warehouse) control(sub string) string { return filepath.Join(w.root, controlDir, sub) }

// controlName returns the name of the marker or journal of run runID of
// slice. Slices hold no dot, so the slice is what precedes the first one.
func controlName(slice, runID string) string { return slice + "." + runID + ".json" }

// journal lists the steps that finish a commit: written and synced before
// the first of them is taken, it is the commit point. Replaying it is
// idempotent, so a commit interrupted at any step is finished by replaying
// it whole.
type journal struct {
	RunID string `json:"run_id"`
	Slice string `json:"slice"`
	Ops   []op   `json:"ops"`
}

// op is one step of a journal, with slash-separated paths relative to the
// warehouse root: From renamed over Path, or, without From, Path removed.
type op struct {
	From string `json:"from,omitempty"`
	Path string `json:"path"`
}

// rel returns the journal form of path, which is under the root.
func (w *Warehouse) rel(path string) string {
	r, err := filepath.Rel(w.root, path)
	if err != nil {
		panic(fmt.Sprintf("local: %s is not under %s", path, w.root)) // every path is built from the root
	}
	return filepath.ToSlash(r)
}

// abs returns the path of a journal path, which must stay under the root.
func (w *Warehouse) abs(p string) (string, error) {
	local := filepath.FromSlash(p)
	if p == "" || !filepath.IsLocal(local) {
		return "", fmt.Errorf("journal path %q is not inside the warehouse", p)
	}
	return filepath.Join(w.root, local), nil
}

// writeDurably writes v as JSON to file name in dir through a temporary
// file: synced, renamed into place, and the directory synced. Once it
// returns, the file is whole and survives a crash; before, a crash leaves
// at most a temporary file ".<name>.tmp".
func writeDurably(fsys fileSystem, dir, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = fsys.Sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = fsys.SyncDir(dir)
	}
	return err
}

// publish makes a commit durable: it syncs the directories of the files
// the journal renames (so that they survive to be renamed), then writes
// the journal. The rename of the journal into place is the commit point.
func (w *Warehouse) publish(j *journal) error {
	dirs := map[string]bool{w.root: true}
	for _, o := range j.Ops {
		if o.From == "" {
			continue
		}
		from, err := w.abs(o.From)
		if err != nil {
			return err
		}
		// The partition directory and its table directory may be new.
		dirs[filepath.Dir(from)] = true
		dirs[filepath.Dir(filepath.Dir(from))] = true
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if err := w.fs.SyncDir(dir); err != nil {
			return err
		}
	}
	return writeDurably(w.fs, w.control(journalSub), controlName(j.Slice, j.RunID), j)
}

// finish takes the steps of a published journal, syncs the directories
// they changed and removes the journal. It is idempotent: a rename whose
// source is gone was taken before, and a removal of nothing is done.
func (w *Warehouse) finish(j *journal) error {
	dirs := map[string]bool{}
	for _, o := range j.Ops {
		path, err := w.abs(o.Path)
		if err != nil {
			return err
		}
		if o.From == "" {
			err = removeIfExists(w.fs, path)
		} else {
			var from string
			if from, err = w.abs(o.From); err == nil {
				err = w.fs.Rename(from, path)
			}
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		if err != nil {
			return err
		}
		dirs[filepath.Dir(path)] = true
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if err := w.fs.SyncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	jdir := w.control(journalSub)
	if err := removeIfExists(w.fs, filepath.Join(jdir, controlName(j.Slice, j.RunID))); err != nil {
		return err
	}
	return w.fs.SyncDir(jdir)
}

// journals returns the published journals in the warehouse, of slice only
// unless slice is empty, in name order. A journal that does not parse is an
// error: guessing could lose a commit.
func (w *Warehouse) journals(slice string) ([]*journal, error) {
	entries, err := os.ReadDir(w.control(journalSub))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var js []*journal
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") || (slice != "" && !strings.HasPrefix(n, slice+".")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(w.control(journalSub), n))
		if err != nil {
			return nil, err
		}
		j := new(journal)
		if err := json.Unmarshal(data, j); err != nil {
			return nil, fmt.Errorf("journal %s: %w", n, err)
		}
		if n != controlName(j.Slice, j.RunID) {
			return nil, fmt.Errorf("journal %s names run %s of slice %s", n, j.RunID, j.Slice)
		}
		js = append(js, j)
	}
	return js, nil
}

// view is what a reader sees of the commits whose journals are published
// and not yet finished: it resolves them in memory, as if rolled forward,
// without changing a file.
type view struct {
	from  map[string]string   // a path that a pending rename fills → the file to read
	gone  map[string]bool     // paths that a pending step removes
	added map[string][]string // directory → paths in it that pending renames fill
}

// pending returns the view of the unfinished commits; nil when there are
// none.
func (w *Warehouse) pending() (*view, error) {
	js, err := w.journals("")
	if err != nil || len(js) == 0 {
		return nil, err
	}
	v := &view{from: map[string]string{}, gone: map[string]bool{}, added: map[string][]string{}}
	for _, j := range js {
		for _, o := range j.Ops {
			path, err := w.abs(o.Path)
			if err != nil {
				return nil, err
			}
			if o.From == "" {
				v.gone[path] = true
				continue
			}
			from, err := w.abs(o.From)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(from); err != nil {
				continue // renamed already
			}
			v.from[path] = from
			v.added[filepath.Dir(path)] = append(v.added[filepath.Dir(path)], path)
		}
	}
	return v, nil
}

// files returns the files to read for the committed files listed in dir,
// in the name order of the files they stand for.
func (v *view) files(dir string, listed []string) []string {
	if v == nil {
		return listed
	}
	visible := map[string]string{}
	for _, p := range listed {
		if !v.gone[p] {
			visible[p] = p
		}
	}
	for _, p := range v.added[dir] {
		visible[p] = v.from[p]
	}
	out := make([]string, 0, len(visible))
	for _, p := range slices.Sorted(maps.Keys(visible)) {
		out = append(out, visible[p])
	}
	return out
}
