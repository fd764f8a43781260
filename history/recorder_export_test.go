package history

// Written is how many entries reached the file (tests wait on it).
func (r *Recorder) Written() uint64 { return r.written.Load() }
