package authstore

// Cached reports how many sessions the cache holds.
func (c *SessionCache) Cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}
