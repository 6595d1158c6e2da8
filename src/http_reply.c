/* http_reply: placeholder until implemented */
