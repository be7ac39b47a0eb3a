// Atlas CLI configuration, for teams that have the CLI. The application
// itself applies migrations with the Atlas Go library (`app migrate up`),
// from the same directories, and records them in the same
// atlas_schema_revisions table, so either tool can take over.
//
//   atlas migrate diff <name> --env postgres   # plan from ent/schema
//   atlas migrate apply --env postgres --url "$DATABASE_URL"
//   atlas migrate status --env sqlite --url "sqlite://var/app.db"

variable "database_url" {
  type    = string
  default = getenv("DATABASE_URL")
}

env "postgres" {
  src = "ent://ent/schema"
  url = var.database_url
  dev = "docker://postgres/15/dev?search_path=public"
  migration {
    dir = "file://migrations/postgres"
  }
  format {
    migrate {
      diff = "{{ sql . \"  \" }}"
    }
  }
}

env "sqlite" {
  src = "ent://ent/schema"
  url = var.database_url
  dev = "sqlite://dev?mode=memory"
  migration {
    dir = "file://migrations/sqlite"
  }
}
