/* accesslog: placeholder until implemented */
