/* reqid: placeholder until implemented */
