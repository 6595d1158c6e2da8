/* http_body: placeholder until implemented */
