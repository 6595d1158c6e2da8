/* client: placeholder until implemented */
