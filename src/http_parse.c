/* http_parse: placeholder until implemented */
