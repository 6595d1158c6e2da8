/* upstream_conn: placeholder until implemented */
