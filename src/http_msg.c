/* http_msg: placeholder until implemented */
