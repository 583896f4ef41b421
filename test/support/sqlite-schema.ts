import Database from 'better-sqlite3';

/** Names of the tables or indexes in a SQLite file (optionally of one table), sorted; read-only. */
export function schemaNames(path: string, type: 'table' | 'index', table?: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = ?${table ? ' AND tbl_name = ?' : ''} ORDER BY name`,
      )
      .all(...(table ? [type, table] : [type])) as { name: string }[];
    return rows.map((r) => r.name);
  } finally {
    db.close();
  }
}
