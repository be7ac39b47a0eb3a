package config

// DevelopmentKEK is the built-in development sealing key, for the test
// that proves production refuses it.
var DevelopmentKEK = developmentKEK
